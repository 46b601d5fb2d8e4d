//! Admin → Mailboxes, the console's Transfer and Disconnect (keeping or purging the mail), each
//! with its refusals and its audit entry (actor and mailbox); offboarding through a transfer.
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use threadline::accounts::{create_organization, NewUser};
use threadline::db::entities::sync_cursors;
use threadline::db::jobs;

use crate::mailbox_console::{
    audited, bea_linked, cell, drain, find, message, row, runs, stored, user_id, BEA, BEA_MAILBOX,
    CY, PASSWORD,
};
use crate::mailbox_fixtures::GMAIL;
use crate::support::location;
use crate::support::ADMIN_EMAIL;

#[tokio::test]
async fn transfer_hands_the_mailbox_and_its_mail_to_another_active_user() {
    let (app, bea, account) = bea_linked().await;
    let admin = user_id(&app, ADMIN_EMAIL).await;
    let cy_id = app.create_user(CY, PASSWORD, false).await;
    let cy = app.other_browser();
    cy.sign_in(CY, PASSWORD).await;
    let dee = app.create_user("dee@acme.test", PASSWORD, false).await;
    let res = app
        .post_form(
            &format!("/admin/users/{dee}/disabled"),
            &[("disabled", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let other = NewUser::parse("root@other-org.test", "Other Root", PASSWORD).unwrap();
    let (_, outsider) = create_organization(&app.db, "Other", other).await.unwrap();
    let cursors = sync_cursors::Entity::find()
        .filter(sync_cursors::Column::AccountId.eq(account.id))
        .all(&app.db)
        .await
        .unwrap();
    assert!(!cursors.is_empty());
    assert!(bea.get_html("/mail").await.contains("Console one"));
    assert!(bea.get_html("/mailboxes").await.contains(BEA_MAILBOX));
    assert!(!cy.get_html("/mail").await.contains("Console one"));
    assert!(!cy.get_html("/mailboxes").await.contains(BEA_MAILBOX));

    // The confirmation page offers the organization's active users but the owner.
    let path = format!("/admin/mailboxes/{}/transfer", account.id);
    let page = app.get_html(&path).await;
    assert!(
        page.contains(&format!("<option value=\"{cy_id}\">")),
        "{page}"
    );
    assert!(page.contains(&format!("<option value=\"{admin}\">")));
    let bea_id = account.owner_user_id.unwrap();
    for absent in [bea_id, dee, outsider.id] {
        assert!(
            !page.contains(&format!("<option value=\"{absent}\">")),
            "{page}"
        );
    }
    assert_eq!(bea.get(&path).await.status(), StatusCode::FORBIDDEN);

    // Refused: a member asking, a disabled user, another organization's user, nobody, the
    // current owner; without the CSRF token. Nothing changes.
    let to = |id: i64| id.to_string();
    let res = bea.post_form(&path, &[("user_id", &to(cy_id))]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let refusals = [
        (to(dee), "disabled"),
        (to(outsider.id), "Choose a user of this organization"),
        ("999999".to_string(), "Choose a user of this organization"),
        (String::new(), "Choose a user"),
        (to(bea_id), "already owns"),
    ];
    for (user, why) in refusals {
        let res = app.post_form(&path, &[("user_id", &user)]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{user}");
        let body = res.text().await.unwrap();
        assert!(body.contains(why), "{user}: {why} missing from {body}");
    }
    let res = app
        .post_form_with(&path, None, &[("user_id", &to(cy_id))])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(find(&app, BEA_MAILBOX).await.unwrap(), account);
    assert_eq!(audited(&app, "mailbox.transfer").await, None);

    // To Cy: the owner changes and nothing else.
    let res = app.post_form(&path, &[("user_id", &to(cy_id))]).await;
    assert_eq!(location(&res), "/admin/mailboxes");
    let moved = find(&app, BEA_MAILBOX).await.unwrap();
    assert_eq!(moved.owner_user_id, Some(cy_id));
    assert_eq!(
        (
            moved.status,
            moved.credentials.clone(),
            moved.last_success_at
        ),
        (
            account.status,
            account.credentials.clone(),
            account.last_success_at
        )
    );
    assert_eq!(stored(&app, account.id).await, 2);
    let after = sync_cursors::Entity::find()
        .filter(sync_cursors::Column::AccountId.eq(account.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(after, cursors);
    let (actor, subject, detail) = audited(&app, "mailbox.transfer").await.unwrap();
    assert_eq!((actor, subject), (Some(admin), Some(account.id)));
    assert!(detail.contains(&format!("from {BEA} to {CY}")), "{detail}");
    let page = app.get_html("/admin/mailboxes").await;
    assert_eq!(
        cell(&row(&page, account.id), "owner"),
        format!("Test User <{CY}>")
    );

    // Cy has it under Mailboxes and its mail under My mail; Bea has neither.
    assert!(cy.get_html("/mailboxes").await.contains(BEA_MAILBOX));
    assert!(cy.get_html("/mail").await.contains("Console one"));
    let bea_list = bea.get_html("/mailboxes").await;
    assert!(!bea_list.contains(BEA_MAILBOX), "{bea_list}");
    assert!(!bea.get_html("/mail").await.contains("Console one"));
    assert_eq!(
        bea.get(&format!("/mailboxes/{}", account.id))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // It keeps syncing from its cursors, now for Cy.
    app.deliver_gmail(BEA_MAILBOX, message("three"), "INBOX", None)
        .await;
    jobs::run_now(&app.db, jobs::SYNC_ACCOUNT, account.id)
        .await
        .unwrap();
    assert_eq!(drain(&app).await, vec![account.id]);
    assert!(cy.get_html("/mail").await.contains("Console three"));
}

#[tokio::test]
async fn offboarding_hands_a_disabled_users_mailbox_to_a_successor_who_resumes_it() {
    let (app, _bea, account) = bea_linked().await;
    let cy_id = app.create_user(CY, PASSWORD, false).await;
    let bea_id = account.owner_user_id.unwrap();
    let res = app
        .post_form(
            &format!("/admin/users/{bea_id}/disabled"),
            &[("disabled", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        find(&app, BEA_MAILBOX).await.unwrap().status.as_str(),
        "paused"
    );
    let resume = format!("/admin/mailboxes/{}/resume", account.id);
    assert_eq!(
        app.post_form(&resume, &[]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let res = app
        .post_form(
            &format!("/admin/mailboxes/{}/transfer", account.id),
            &[("user_id", &cy_id.to_string())],
        )
        .await;
    assert_eq!(location(&res), "/admin/mailboxes");
    // Still paused after the transfer; the successor being active, it resumes.
    assert_eq!(
        find(&app, BEA_MAILBOX).await.unwrap().status.as_str(),
        "paused"
    );
    assert_eq!(
        location(&app.post_form(&resume, &[]).await),
        "/admin/mailboxes"
    );
    app.deliver_gmail(BEA_MAILBOX, message("three"), "INBOX", None)
        .await;
    assert_eq!(drain(&app).await, vec![account.id]);
    assert_eq!(stored(&app, account.id).await, 3);
}

#[tokio::test]
async fn disconnect_keeps_or_purges_the_mail_after_a_confirmation() {
    let (app, bea, account) = bea_linked().await;
    let admin = user_id(&app, ADMIN_EMAIL).await;
    let ada = find(&app, GMAIL).await.unwrap();
    app.deliver_gmail(GMAIL, message("ada"), "INBOX", None)
        .await;
    jobs::run_now(&app.db, jobs::SYNC_ACCOUNT, ada.id)
        .await
        .unwrap();
    assert_eq!(drain(&app).await, vec![ada.id]);
    let path = format!("/admin/mailboxes/{}/disconnect", account.id);

    // The confirmation page names the mailbox and what purging deletes; members get 403.
    let page = app.get_html(&path).await;
    assert!(
        page.contains(BEA_MAILBOX) && page.contains("2 stored messages"),
        "{page}"
    );
    assert!(page.contains("Disconnect, keep the mail"));
    assert!(page.contains("Disconnect and delete its mail"));
    assert_eq!(bea.get(&path).await.status(), StatusCode::FORBIDDEN);
    let res = bea.post_form(&path, &[("purge", "true")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = app.post_form_with(&path, None, &[("purge", "true")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored(&app, account.id).await, 2);

    // Keep: tokens gone, mail kept; then only deleting is offered.
    let res = app.post_form(&path, &[("purge", "false")]).await;
    assert_eq!(location(&res), "/admin/mailboxes");
    let kept = find(&app, BEA_MAILBOX).await.unwrap();
    assert_eq!(kept.status.as_str(), "disconnected");
    assert!(kept.credentials.is_none());
    assert_eq!(stored(&app, account.id).await, 2);
    let (actor, subject, _) = audited(&app, "mailbox.disconnect").await.unwrap();
    assert_eq!((actor, subject), (Some(admin), Some(account.id)));
    let page = app.get_html(&path).await;
    assert!(
        !page.contains("keep the mail") && page.contains("Delete its mail"),
        "{page}"
    );
    let res = app.post_form(&path, &[("purge", "false")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Purge: the mailbox, its mail, cursors and runs are gone; Ada's mailbox is untouched.
    let res = app.post_form(&path, &[("purge", "true")]).await;
    assert_eq!(location(&res), "/admin/mailboxes");
    assert_eq!(find(&app, BEA_MAILBOX).await, None);
    assert_eq!(stored(&app, account.id).await, 0);
    assert_eq!(runs(&app, account.id).await, 0);
    let cursors = sync_cursors::Entity::find()
        .filter(sync_cursors::Column::AccountId.eq(account.id))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(cursors, 0);
    assert_eq!(stored(&app, ada.id).await, 1);
    let (actor, subject, detail) = audited(&app, "mailbox.disconnect_purge").await.unwrap();
    assert_eq!((actor, subject), (Some(admin), Some(account.id)));
    assert!(detail.contains(BEA_MAILBOX), "{detail}");
    let page = app.get_html("/admin/mailboxes").await;
    assert!(
        page.contains("deleted its mail (2 stored messages)"),
        "{page}"
    );
    assert!(!page.contains(&format!("mailbox-{}", account.id)));
    assert!(!bea.get_html("/mail").await.contains("Console one"));

    // A connected mailbox purged at once, in one step.
    let path = format!("/admin/mailboxes/{}/disconnect", ada.id);
    let res = app.post_form(&path, &[("purge", "true")]).await;
    assert_eq!(location(&res), "/admin/mailboxes");
    assert_eq!(find(&app, GMAIL).await, None);
    assert_eq!(stored(&app, ada.id).await, 0);
    assert_eq!(
        app.post_form("/admin/mailboxes/999999/disconnect", &[("purge", "true")])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}
