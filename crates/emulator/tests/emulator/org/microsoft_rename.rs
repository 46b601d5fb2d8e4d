//! Renaming a directory user: the object id stays, `userPrincipalName` and `mail` follow, and
//! the mailbox (its mail, reachable by id) stays the same, the old address an alias of it.

use threadline_emulator::control::DeliverQuery;
use threadline_emulator::microsoft::tenant_control::UserSpec;

use super::microsoft::{tenant, token, DOMAIN};
use super::Org;

fn raw(to: &str, subject: &str) -> String {
    format!("From: x@client.test\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@client.test>\r\nDate: Tue, 01 Oct 2024 11:00:00 +0000\r\n\r\nHi.\r\n")
}

#[tokio::test]
async fn a_renamed_user_keeps_its_id_and_its_mailbox() {
    let org = Org::start().await;
    let (tenant, secret) = tenant(&org).await;
    let token = token(&org, &tenant, &secret).await;
    let (_, ada) = org
        .get(&token, &format!("/v1.0/users/ada@{DOMAIN}"), &[])
        .await;
    let id = ada["id"].as_str().expect("id").to_string();

    let client = org.emu.client();
    let renamed = format!("ada.lovelace@{DOMAIN}");
    let change = UserSpec {
        user_principal_name: Some(renamed.clone()),
        ..UserSpec::default()
    };
    let user = client
        .update_tenant_user(&tenant, &format!("ada@{DOMAIN}"), &change)
        .await
        .expect("rename");
    assert_eq!(
        (user.id.as_str(), user.mail.as_deref()),
        (id.as_str(), Some(renamed.as_str()))
    );

    let (status, after) = org.get(&token, &format!("/v1.0/users/{id}"), &[]).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["userPrincipalName"], renamed.as_str());
    assert_eq!(after["mail"], renamed.as_str());
    // Mail to the new address and to the old one lands in the same mailbox.
    for (to, subject) in [
        (renamed.as_str(), "after-rename"),
        (&format!("ada@{DOMAIN}") as &str, "old-address"),
    ] {
        client
            .deliver(to, raw(to, subject), &DeliverQuery::default())
            .await
            .expect("deliver");
    }
    let (status, messages) = org
        .get(
            &token,
            &format!("/v1.0/users/{id}/messages?$select=subject"),
            &[],
        )
        .await;
    assert_eq!(status, 200, "{messages}");
    let mut subjects: Vec<&str> = messages["value"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["subject"].as_str())
        .collect();
    subjects.sort_unstable();
    assert_eq!(subjects, ["after-rename", "hello ada", "old-address"]);

    // Another user's address, or one outside the tenant's domain, is refused.
    for taken in [format!("bob@{DOMAIN}"), "ada@elsewhere.test".to_string()] {
        let change = UserSpec {
            user_principal_name: Some(taken.clone()),
            ..UserSpec::default()
        };
        assert!(
            client
                .update_tenant_user(&tenant, &id, &change)
                .await
                .is_err(),
            "{taken}"
        );
    }
}
