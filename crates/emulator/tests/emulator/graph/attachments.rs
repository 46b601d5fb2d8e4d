//! Attachments: file (regular and inline) and item attachments, bytes, `/$value`.

use base64::Engine as _;
use threadline_emulator::Quota;

use crate::graph::support::{emulator, ME};

pub fn with_attachments(id: &str) -> Vec<u8> {
    format!(
        "From: Carol <carol@client.test>\r\nTo: {ME}\r\nSubject: Files\r\nMessage-ID: <{id}>\r\nDate: Tue, 01 Oct 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: multipart/related; boundary=rel\r\n\r\n--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See <img src=\"cid:logo@x\"></p>\r\n--rel\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\n/////w==\r\n--rel--\r\n--outer\r\nContent-Type: application/octet-stream; name=\"data.bin\"\r\nContent-Disposition: attachment; filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n+/+/+/8=\r\n--outer\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\nFrom: x@y.test\r\nSubject: inner\r\n\r\ninner body\r\n--outer--\r\n"
    )
    .into_bytes()
}

#[tokio::test]
async fn file_attachments_carry_standard_base64_and_raw_value() {
    let emu = emulator(Quota::Off, true).await;
    let id = emu.deliver(ME, with_attachments("att@x"), "inbox", 1_727_776_800_000);
    let token = emu.user_token(ME).await;
    let (_, message) = emu.get(&token, &format!("/v1.0/me/messages/{id}")).await;
    assert_eq!(message["hasAttachments"], true);
    let (status, list) = emu
        .get(&token, &format!("/v1.0/me/messages/{id}/attachments"))
        .await;
    assert_eq!(status, 200, "{list}");
    let items = list["value"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 3, "{list}");
    let inline = items
        .iter()
        .find(|a| a["isInline"] == true)
        .cloned()
        .unwrap_or_default();
    assert_eq!(inline["contentId"], "logo@x");
    assert_eq!(inline["contentType"], "image/png");
    let file = items
        .iter()
        .find(|a| a["name"] == "data.bin")
        .cloned()
        .unwrap_or_default();
    assert_eq!(file["@odata.type"], "#microsoft.graph.fileAttachment");
    assert_eq!(file["size"], 5);
    let bytes = file["contentBytes"].as_str().unwrap_or_default();
    assert_eq!(
        bytes, "+/+/+/8=",
        "standard alphabet with padding, not base64url"
    );
    assert_eq!(
        base64::engine::general_purpose::STANDARD.decode(bytes).ok(),
        Some(vec![0xfb, 0xff, 0xbf, 0xfb, 0xff])
    );
    let item = items
        .iter()
        .find(|a| a["@odata.type"] == "#microsoft.graph.itemAttachment")
        .cloned()
        .unwrap_or_default();
    assert!(item.get("contentBytes").is_none());
    let aid = file["id"].as_str().unwrap_or_default();
    let (status, one) = emu
        .get(&token, &format!("/v1.0/me/messages/{id}/attachments/{aid}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(one["contentBytes"], bytes);
    let (status, _, raw) = emu
        .get_full(
            &token,
            &format!("/v1.0/me/messages/{id}/attachments/{aid}/$value"),
            &[],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(raw, vec![0xfb, 0xff, 0xbf, 0xfb, 0xff]);
    let (status, selected) = emu
        .get(
            &token,
            &format!("/v1.0/me/messages/{id}/attachments?$select=id,name,size,isInline"),
        )
        .await;
    assert_eq!(status, 200);
    assert!(selected["value"][1].get("contentBytes").is_none());
    assert_eq!(
        emu.get(
            &token,
            &format!("/v1.0/me/messages/{id}/attachments/AAMkAGI2bm9wZQ")
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn only_inline_attachments_do_not_set_has_attachments() {
    let emu = emulator(Quota::Off, true).await;
    let raw = format!("From: a@b.test\r\nTo: {ME}\r\nSubject: inline\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=r\r\n\r\n--r\r\nContent-Type: text/html\r\n\r\n<img src=cid:i@x>\r\n--r\r\nContent-Type: image/gif\r\nContent-ID: <i@x>\r\n\r\nGIF\r\n--r--\r\n");
    let id = emu.deliver(ME, raw.into_bytes(), "inbox", 1_727_776_800_000);
    let token = emu.user_token(ME).await;
    let (_, m) = emu.get(&token, &format!("/v1.0/me/messages/{id}")).await;
    assert_eq!(m["hasAttachments"], false);
}
