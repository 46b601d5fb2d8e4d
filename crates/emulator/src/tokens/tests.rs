//! Token service unit tests.
use super::*;

#[test]
fn revoking_a_mailbox_kills_access_and_refresh_tokens() {
    let tokens = Tokens::default();
    let scopes = vec!["s".to_string()];
    let g = tokens.grant(Provider::Google, "a@x.test", "c", &scopes);
    let at = tokens.issue_access("ya29.", g, &scopes, Duration::from_secs(60));
    let rt = tokens.issue_refresh("1//", g, &scopes, 100);
    assert!(tokens.check_access(&at).is_ok());
    assert_eq!(tokens.revoke_mailbox("a@x.test"), 1);
    assert_eq!(tokens.check_access(&at).err(), Some(TokenError::Revoked));
    assert_eq!(tokens.check_refresh(&rt).err(), Some(TokenError::Revoked));
}

#[test]
fn the_refresh_token_past_the_cap_kills_the_oldest() {
    let tokens = Tokens::default();
    let g = tokens.grant(Provider::Google, "a@x.test", "c", &[]);
    let first = tokens.issue_refresh("1//", g, &[], 2);
    let second = tokens.issue_refresh("1//", g, &[], 2);
    tokens.issue_refresh("1//", g, &[], 2);
    assert!(tokens.check_refresh(&first).is_err());
    assert!(tokens.check_refresh(&second).is_ok());
}

#[test]
fn codes_are_single_use() {
    let tokens = Tokens::default();
    let code = AuthCode {
        provider: Provider::Google,
        client_id: "c".into(),
        redirect_uri: "http://x/cb".into(),
        mailbox: "a@x.test".into(),
        scopes: vec![],
        pkce: None,
        offline: false,
        forced_consent: false,
        nonce: None,
        expires_at: SystemTime::now() + Duration::from_secs(60),
    };
    let value = tokens.issue_code("4/0A", code);
    assert!(tokens.redeem_code(&value).is_ok());
    assert_eq!(
        tokens.redeem_code(&value).err(),
        Some(CodeError::AlreadyUsed)
    );
    assert_eq!(tokens.redeem_code("nope").err(), Some(CodeError::Unknown));
}
