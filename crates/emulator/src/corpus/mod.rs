//! Deterministic corpus generator (`--seed`, `--mailboxes`, `--messages`): mailboxes of our
//! organization (alternating Google / Microsoft) filled with business threads (replies,
//! forwards, cross-business CCs), internal threads, free-mail correspondents, newsletters,
//! attachments and inline images, several charsets and a few malformed messages, spread over
//! two years. Same seed, same bytes.

pub mod build;
pub mod import;
pub mod people;

use axum::body::Bytes;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use super::store::{Mailbox, MailboxInfo, MessageState, Provider, Store};
use super::EmulatorConfig;
use build::{Draft, Kind, Person};
use people::{BUSINESSES, COLLEAGUES, FREEMAIL, INTERNAL_TOPICS, NEWSLETTERS, ORG_DOMAIN};

/// End of the generated period (2026-11-01T00:00:00Z); the corpus spans two years before it.
pub const CORPUS_END_MS: i64 = 1_793_491_200_000;
const TWO_YEARS_MS: i64 = 2 * 365 * 24 * 3600 * 1000;

/// Create `config.mailboxes` mailboxes with `config.messages` messages each.
pub fn seed(store: &Store, config: &EmulatorConfig) -> anyhow::Result<()> {
    for index in 0..config.mailboxes {
        let info = mailbox_info(index);
        let address = info.address.clone();
        let Some(mailbox) = store.create(info) else {
            anyhow::bail!("generated mailbox {address} already exists");
        };
        fill(&mailbox, config.seed, index, config.messages)?;
    }
    Ok(())
}

/// Fill an existing mailbox (any address, either provider) with `count` generated messages;
/// `index` varies the content between mailboxes of one seed. Returns the ids, oldest first.
pub fn fill(
    mailbox: &Mailbox,
    seed: u64,
    index: usize,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    generate(seed, index, &mailbox.info, count)
        .into_iter()
        .map(|m| {
            let state = m.state(mailbox.info.provider);
            Ok(mailbox.deliver(Bytes::from(m.raw), state, m.internal_date_ms)?)
        })
        .collect()
}

/// Identity of the `index`-th generated mailbox: even ones Google, odd ones Microsoft.
pub fn mailbox_info(index: usize) -> MailboxInfo {
    let (name, local) = COLLEAGUES[index % COLLEAGUES.len()];
    let round = index / COLLEAGUES.len();
    let local = if round == 0 {
        local.to_string()
    } else {
        format!("{local}{round}")
    };
    let provider = if index.is_multiple_of(2) {
        Provider::Google
    } else {
        Provider::Microsoft
    };
    MailboxInfo {
        provider,
        address: format!("{local}@{ORG_DOMAIN}"),
        display_name: name.to_string(),
        tenant: (provider == Provider::Microsoft)
            .then(|| "8f3c2a91-5b7d-4e0a-9c61-2d4b7e9f1a03".to_string()),
    }
}

/// One generated message with its initial state.
#[allow(
    clippy::struct_excessive_bools,
    reason = "independent facts about one message"
)]
pub struct Generated {
    pub raw: Vec<u8>,
    pub internal_date_ms: i64,
    pub outgoing: bool,
    pub read: bool,
    pub starred: bool,
    pub newsletter: bool,
}

impl Generated {
    pub fn state(&self, provider: Provider) -> MessageState {
        let mut state = MessageState {
            read: self.read,
            starred: self.starred,
            ..Default::default()
        };
        match provider {
            Provider::Google => {
                let labels: &[&str] = match (self.outgoing, self.newsletter) {
                    (true, _) => &["SENT"],
                    (false, true) => &["INBOX", "CATEGORY_PROMOTIONS"],
                    (false, false) => &["INBOX", "CATEGORY_PERSONAL", "IMPORTANT"],
                };
                state.labels = labels.iter().map(|l| (*l).to_string()).collect();
            }
            Provider::Microsoft => {
                state.folder = Some(if self.outgoing { "sentitems" } else { "inbox" }.into());
            }
        }
        state
    }
}

/// Generate `count` messages for a mailbox, oldest first.
pub fn generate(seed: u64, index: usize, owner: &MailboxInfo, count: usize) -> Vec<Generated> {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(index as u64));
    let me = Person::new(&owner.display_name, &owner.address);
    let mut drafts: Vec<Draft> = Vec::with_capacity(count + 8);
    let mut thread_no = 0usize;
    while drafts.len() < count {
        thread_no += 1;
        let start = CORPUS_END_MS - rng.gen_range(0..TWO_YEARS_MS);
        let roll = rng.gen_range(0..100);
        let tag = format!("{seed}.{index}.{thread_no}");
        match roll {
            0..=44 => drafts.extend(business_thread(&mut rng, &me, start, &tag)),
            45..=59 => drafts.extend(internal_thread(&mut rng, &me, owner, start, &tag)),
            60..=71 => drafts.extend(freemail_thread(&mut rng, &me, start, &tag)),
            72..=87 => drafts.push(newsletter(&mut rng, &me, start, &tag)),
            88..=96 => drafts.push(Draft::new(
                &tag,
                start,
                Kind::Charset(rng.gen_range(0..4)),
                &me,
            )),
            _ => drafts.push(Draft::new(
                &tag,
                start,
                Kind::Malformed(rng.gen_range(0..4)),
                &me,
            )),
        }
    }
    drafts.truncate(count);
    drafts.sort_by_key(|d| d.date_ms);
    let recent = CORPUS_END_MS - 14 * 24 * 3600 * 1000;
    drafts
        .into_iter()
        .map(|d| {
            let delay = rng.gen_range(2_000..90_000);
            Generated {
                internal_date_ms: d.date_ms + delay,
                outgoing: d.outgoing,
                read: d.outgoing || d.date_ms < recent || rng.gen_bool(0.3),
                starred: rng.gen_bool(0.05),
                newsletter: matches!(d.kind, Kind::Newsletter { .. }),
                raw: build::render(&d),
            }
        })
        .collect()
}

fn business_thread(rng: &mut StdRng, me: &Person, start: i64, tag: &str) -> Vec<Draft> {
    let business = &BUSINESSES[rng.gen_range(0..BUSINESSES.len())];
    let (name, local) = business.contacts[rng.gen_range(0..business.contacts.len())];
    let contact = Person::new(name, &format!("{local}@{}", business.mail_domain));
    let subject = business.topics[rng.gen_range(0..business.topics.len())].to_string();
    let mut cc = Vec::new();
    if rng.gen_bool(0.25) {
        let other = &BUSINESSES[rng.gen_range(0..BUSINESSES.len())];
        let (n, l) = other.contacts[0];
        cc.push(Person::new(n, &format!("{l}@{}", other.mail_domain)));
    }
    if rng.gen_bool(0.2) {
        let (n, l) = COLLEAGUES[rng.gen_range(0..COLLEAGUES.len())];
        cc.push(Person::new(n, &format!("{l}@{ORG_DOMAIN}")));
    }
    let mut drafts = conversation(rng, me, &contact, &cc, &subject, start, tag);
    if rng.gen_bool(0.2) {
        if let Some(last) = drafts.last() {
            let (n, l) = COLLEAGUES[rng.gen_range(0..COLLEAGUES.len())];
            let colleague = Person::new(n, &format!("{l}@{ORG_DOMAIN}"));
            let mut fwd = Draft::new(
                &format!("{tag}.fwd"),
                last.date_ms + 3_600_000,
                Kind::Forward,
                me,
            );
            fwd.subject = format!("Fwd: {subject}");
            fwd.to = vec![colleague];
            fwd.outgoing = true;
            fwd.in_reply_to = Some(last.message_id.clone());
            fwd.references.clone_from(&last.references);
            fwd.references.push(last.message_id.clone());
            fwd.quoted = Some(Box::new(last.clone()));
            drafts.push(fwd);
        }
    }
    drafts
}

fn conversation(
    rng: &mut StdRng,
    me: &Person,
    other: &Person,
    cc: &[Person],
    subject: &str,
    start: i64,
    tag: &str,
) -> Vec<Draft> {
    let len = rng.gen_range(1..=5);
    let mut drafts: Vec<Draft> = Vec::new();
    let mut date = start;
    let inbound_first = rng.gen_bool(0.7);
    for n in 0..len {
        let outgoing = (n % 2 == 0) != inbound_first;
        let kind = match rng.gen_range(0..10) {
            0 | 1 => Kind::WithAttachment,
            2 => Kind::InlineImage,
            _ => Kind::Plain,
        };
        let from = if outgoing { me } else { other };
        let mut d = Draft::new(&format!("{tag}.{n}"), date, kind, from);
        d.to = vec![if outgoing { other.clone() } else { me.clone() }];
        d.cc = cc.to_vec();
        d.outgoing = outgoing;
        d.subject = if n == 0 {
            subject.to_string()
        } else {
            format!("Re: {subject}")
        };
        if let Some(prev) = drafts.last() {
            d.in_reply_to = Some(prev.message_id.clone());
            d.references.clone_from(&prev.references);
            d.references.push(prev.message_id.clone());
        }
        drafts.push(d);
        date += rng.gen_range(600_000..3 * 24 * 3_600_000);
    }
    drafts
}

fn internal_thread(
    rng: &mut StdRng,
    me: &Person,
    owner: &MailboxInfo,
    start: i64,
    tag: &str,
) -> Vec<Draft> {
    let (n, l) = COLLEAGUES
        .iter()
        .copied()
        .find(|(_, l)| !owner.address.starts_with(&format!("{l}@")) && rng.gen_bool(0.4))
        .unwrap_or(COLLEAGUES[0]);
    let colleague = Person::new(n, &format!("{l}@{ORG_DOMAIN}"));
    let subject = INTERNAL_TOPICS[rng.gen_range(0..INTERNAL_TOPICS.len())];
    conversation(rng, me, &colleague, &[], subject, start, tag)
}

fn freemail_thread(rng: &mut StdRng, me: &Person, start: i64, tag: &str) -> Vec<Draft> {
    let (n, a) = FREEMAIL[rng.gen_range(0..FREEMAIL.len())];
    let subject = people::FREEMAIL_TOPICS[rng.gen_range(0..people::FREEMAIL_TOPICS.len())];
    conversation(rng, me, &Person::new(n, a), &[], subject, start, tag)
}

fn newsletter(rng: &mut StdRng, me: &Person, start: i64, tag: &str) -> Draft {
    let (name, address, list) = NEWSLETTERS[rng.gen_range(0..NEWSLETTERS.len())];
    let mut d = Draft::new(
        tag,
        start,
        Kind::Newsletter {
            list_id: list.to_string(),
        },
        &Person::new(name, address),
    );
    d.to = vec![me.clone()];
    d.subject = format!("{name} — issue #{}", rng.gen_range(10..400));
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_bytes_and_another_seed_differs() {
        let info = mailbox_info(0);
        let a: Vec<Vec<u8>> = generate(7, 0, &info, 40)
            .into_iter()
            .map(|g| g.raw)
            .collect();
        let b: Vec<Vec<u8>> = generate(7, 0, &info, 40)
            .into_iter()
            .map(|g| g.raw)
            .collect();
        let c: Vec<Vec<u8>> = generate(8, 0, &info, 40)
            .into_iter()
            .map(|g| g.raw)
            .collect();
        assert_eq!(a.len(), 40);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn mailboxes_alternate_providers() {
        assert_eq!(mailbox_info(0).provider, Provider::Google);
        assert_eq!(mailbox_info(1).provider, Provider::Microsoft);
        assert_ne!(mailbox_info(0).address, mailbox_info(8).address);
    }
}
