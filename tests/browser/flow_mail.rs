//! Steps 4-8 of the browser flow (see `flow.rs`): the business timeline, the email page's
//! marks, delete and restore, a contact linked by hand, and an admin's delete for good.
use crate::corpus::{note_subject, INVOICE, NOTES, RENEWAL, RENEWAL_BODIES};
use crate::flow::{Flow, SUBJECTS};
use crate::page::{attrs, click, eventually, fill, follow, goto, press, same_page, tag_page};
use crate::page::{texts, wait_count, wait_path, wait_query, wait_text, wait_texts, widths};

/// Step 4: newest thread first (by its latest message), Load more, a thread opening in place
/// oldest message first, and the search box filtering in place.
pub async fn timeline(f: &mut Flow, business: i64) -> Vec<i64> {
    f.open_business(business).await;
    let c = f.c();
    let mut want = vec![RENEWAL.to_string(), INVOICE.to_string()];
    want.extend((1..=NOTES).rev().map(note_subject));
    let first: Vec<&str> = want[..25].iter().map(String::as_str).collect();
    wait_texts(c, SUBJECTS, &first).await;
    f.shot("timeline").await;

    let c = f.c();
    tag_page(c, "more").await;
    follow(c, "Load more").await;
    let all: Vec<&str> = want.iter().map(String::as_str).collect();
    wait_texts(c, SUBJECTS, &all).await;
    assert!(same_page(c, "more").await, "Load more added to the page");
    assert!(texts(c, "a.load-more").await.is_empty(), "nothing more");

    let (thread, renewal) = f.expand(RENEWAL, 3).await;
    let c = f.c();
    let from: Vec<&str> = RENEWAL_BODIES.iter().map(|(who, _)| *who).collect();
    let bodies: Vec<&str> = RENEWAL_BODIES.iter().map(|(_, body)| *body).collect();
    wait_texts(c, &format!("#{thread} li.message a.from"), &from).await;
    wait_texts(
        c,
        &format!("#{thread} li.message .message-snippet"),
        &bodies,
    )
    .await;
    wait_texts(c, &format!("#{thread} .count"), &["3"]).await;
    f.shot("thread-expanded").await;

    let c = f.c();
    tag_page(c, "search").await;
    fill(c, "#timeline input[name=q]", "invoice").await;
    wait_texts(c, SUBJECTS, &[INVOICE]).await;
    assert!(
        same_page(c, "search").await,
        "the search swapped the list in place"
    );
    // The address bar follows the filter.
    wait_query(c, "q=invoice").await;
    f.shot("search").await;
    renewal
}

/// Step 5: star and read marks on the email page, in place, and on the timeline after.
pub async fn star_and_read(f: &mut Flow, business: i64, renewal: &[i64]) {
    let first = renewal[0];
    f.open_business(business).await;
    f.expand(RENEWAL, 3).await;
    f.open_email(first).await;
    wait_text(f.c(), "main h1", RENEWAL).await;
    // Opening an email reads it.
    wait_text(f.c(), "#email-actions", "Mark unread").await;
    f.action("☆ Star", "★ Starred").await;
    f.action("Mark unread", "Mark read").await;
    f.action("Mark read", "Mark unread").await;
    f.shot("email-starred-read").await;

    let back = format!("#email-links a[href='/businesses/{business}']");
    click(f.c(), &back).await;
    wait_path(f.c(), &format!("/businesses/{business}")).await;
    let (thread, _) = f.expand(RENEWAL, 3).await;
    let c = f.c();
    wait_count(c, &format!("#{thread} > summary .star"), 1).await;
    let classes = attrs(c, &format!("#{thread} li.message"), "class").await;
    // The opened email is read; Ada's own reply was read in Gmail (no UNREAD label), so it
    // is read in her view too; Bob's second message is still unread.
    assert_eq!(classes, ["message", "message", "message unread"]);
    wait_count(c, &format!("#{thread} li.message .star"), 1).await;
    wait_count(c, &format!("#message-{first} .star"), 1).await;
    f.shot("timeline-starred").await;

    // Unread again, from the email page: the timeline shows it.
    f.open_email(first).await;
    f.action("Mark unread", "Mark read").await;
    click(f.c(), &back).await;
    wait_path(f.c(), &format!("/businesses/{business}")).await;
    let (thread, _) = f.expand(RENEWAL, 3).await;
    let classes = attrs(f.c(), &format!("#{thread} li.message"), "class").await;
    assert_eq!(classes, ["message unread", "message", "message unread"]);

    // The Starred filter keeps the starred thread only, in place.
    let c = f.c();
    tag_page(c, "starred").await;
    click(c, "#timeline input[name=starred]").await;
    wait_texts(c, SUBJECTS, &[RENEWAL]).await;
    assert!(same_page(c, "starred").await);
    wait_query(c, "starred=on").await;
    f.shot("filter-starred").await;
    click(f.c(), "#timeline input[name=starred]").await;
    wait_count(f.c(), SUBJECTS, 25).await;
}

/// Step 6: delete hides the email from the timeline and lists it under Deleted; restoring
/// there brings it back.
pub async fn delete_and_restore(f: &mut Flow, business: i64) {
    f.open_business(business).await;
    let (_, ids) = f.expand(INVOICE, 1).await;
    let invoice = ids[0];
    f.open_email(invoice).await;
    f.action("Delete", "Restore").await;
    wait_text(f.c(), "#email-actions .badge", "Deleted").await;
    f.shot("email-deleted").await;

    f.open_business(business).await;
    let c = f.c();
    wait_count(c, SUBJECTS, 25).await;
    let subjects = texts(c, SUBJECTS).await;
    assert!(!subjects.iter().any(|s| s == INVOICE), "{subjects:?}");
    assert_eq!(subjects[1], note_subject(NOTES));

    f.nav("Deleted", "/deleted").await;
    let row = format!("#deleted-{invoice}");
    wait_text(f.c(), &row, INVOICE).await;
    f.shot("deleted-page").await;
    let c = f.c();
    tag_page(c, "restore").await;
    press(c, &row, "Restore").await;
    wait_count(c, &row, 0).await;
    assert!(same_page(c, "restore").await, "the row went away in place");

    f.open_business(business).await;
    let c = f.c();
    wait_count(c, SUBJECTS, 25).await;
    assert_eq!(texts(c, SUBJECTS).await[..2], [RENEWAL, INVOICE]);
}

/// Step 7: a contact no mail names, linked to the whole renewal thread with the email page's
/// typeahead; the contact's timeline then shows the thread.
pub async fn link_contact(f: &mut Flow, business: i64, renewal: &[i64]) -> i64 {
    f.nav("Contacts", "/contacts").await;
    let c = f.c();
    follow(c, "New contact").await;
    wait_path(c, "/contacts/new").await;
    fill(c, "input[name=name]", "Dana Partner").await;
    fill(c, "textarea[name=addresses]", "dana@partner.test").await;
    press(c, "main form.stack-form", "Save").await;
    let contact = f.wait_record_page("/contacts/").await;
    wait_text(f.c(), "#threads", "No mail here yet.").await;

    f.open_business(business).await;
    f.expand(RENEWAL, 3).await;
    f.open_email(renewal[2]).await;
    let c = f.c();
    tag_page(c, "link").await;
    fill(c, "#email-links input[name=q]", "Dana").await;
    // Focusing the field lists every record; the typed name narrows that to Dana. Pick only
    // then, or the narrowed list arriving would replace the picked radio.
    let dana = format!("contact:{contact}");
    let choices = "#link-targets input[name=target]";
    eventually("the typeahead to narrow to Dana", || async {
        let values = attrs(c, choices, "value").await;
        if values == [dana.as_str()] {
            Ok(())
        } else {
            Err(format!("{values:?}"))
        }
    })
    .await;
    let choice = format!("{choices}[value='{dana}']");
    click(c, &choice).await;
    click(c, "#email-links input[name=scope][value=thread]").await;
    // Radios sit next to their labels (the page's input rule once stretched them full width).
    let radios = widths(c, "#email-links input[type=radio]").await;
    assert!(
        radios.len() == 3 && radios.iter().all(|w| *w < 40.0),
        "{radios:?}"
    );
    f.shot("link-typeahead").await;
    let c = f.c();
    press(c, "#email-links", "Link").await;
    wait_text(c, "#email-links ul.links", "Dana Partner").await;
    wait_text(c, "#email-links .notice", "Linked the thread (3 emails).").await;
    assert!(
        same_page(c, "link").await,
        "the Linked to section swapped in place"
    );
    f.shot("linked").await;

    click(
        f.c(),
        &format!("#email-links a[href='/contacts/{contact}']"),
    )
    .await;
    wait_path(f.c(), &format!("/contacts/{contact}")).await;
    wait_texts(f.c(), SUBJECTS, &[RENEWAL]).await;
    f.expand(RENEWAL, 3).await;
    f.shot("contact-timeline").await;
    contact
}

/// Step 8: an admin deletes the latest renewal message for good; its page is gone, the audit
/// log names it, and the thread falls back to its earlier messages.
pub async fn delete_for_good(f: &mut Flow, business: i64, renewal: &[i64]) {
    let last = renewal[2];
    f.open_email(last).await;
    let c = f.c();
    follow(c, "Delete for good…").await;
    wait_path(c, &format!("/emails/{last}/purge")).await;
    wait_text(c, "main h1", "Delete for good?").await;
    f.shot("purge-confirm").await;
    press(f.c(), "main", "Delete for good").await;
    let c = f.c();
    wait_text(c, "main h1", "Acme").await;

    goto(c, &f.app.url(&format!("/emails/{last}"))).await;
    wait_text(c, "main h1", "Not found").await;
    f.shot("purged-email-not-found").await;
    follow(f.c(), "Back to Threadline").await;
    wait_text(f.c(), "main h1", "Acme").await;

    f.nav("Audit log", "/admin/audit").await;
    let rows = texts(f.c(), "main tbody tr").await;
    assert!(
        rows.iter().any(|r| r.contains("email.purge")
            && r.contains(&format!("email {last}"))
            && r.contains(RENEWAL)),
        "{rows:?}"
    );
    f.shot("audit-log").await;

    f.open_business(business).await;
    let c = f.c();
    wait_count(c, SUBJECTS, 25).await;
    assert_eq!(texts(c, SUBJECTS).await[..2], [INVOICE, RENEWAL]);
    let (thread, ids) = f.expand(RENEWAL, 2).await;
    assert_eq!(ids, renewal[..2]);
    wait_texts(f.c(), &format!("#{thread} .count"), &["2"]).await;
}
