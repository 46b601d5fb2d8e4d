//! The directory's two kinds of record: a business, identified by its domains, and a contact,
//! identified by its email addresses. What differs between them in words, URLs and form fields.
use super::association::Target;

/// Which kind of directory record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Business,
    Contact,
}

impl RecordKind {
    /// One record, in a sentence: "business", "contact".
    pub fn noun(self) -> &'static str {
        match self {
            Self::Business => "business",
            Self::Contact => "contact",
        }
    }

    /// Many records, and the URL segment: "businesses", "contacts".
    pub fn plural(self) -> &'static str {
        match self {
            Self::Business => "businesses",
            Self::Contact => "contacts",
        }
    }

    /// The list page's heading: "Businesses", "Contacts".
    pub fn title(self) -> &'static str {
        match self {
            Self::Business => "Businesses",
            Self::Contact => "Contacts",
        }
    }

    /// The list page: "/businesses", "/contacts".
    pub fn base(self) -> &'static str {
        match self {
            Self::Business => "/businesses",
            Self::Contact => "/contacts",
        }
    }

    /// One record's page.
    pub fn url(self, id: i64) -> String {
        format!("{}/{id}", self.base())
    }

    /// The form field and list column of its identifiers: "domains", "addresses".
    pub fn identifiers(self) -> &'static str {
        match self {
            Self::Business => "domains",
            Self::Contact => "addresses",
        }
    }

    /// One identifier, in a sentence: "domain", "address".
    pub fn identifier(self) -> &'static str {
        match self {
            Self::Business => "domain",
            Self::Contact => "address",
        }
    }

    /// The record as a link target.
    pub fn target(self, id: i64) -> Target {
        match self {
            Self::Business => Target::Business(id),
            Self::Contact => Target::Contact(id),
        }
    }

    pub fn is_contact(self) -> bool {
        self == Self::Contact
    }
}

#[cfg(test)]
mod tests {
    use super::RecordKind;

    #[test]
    fn kinds_name_their_pages_and_fields() {
        assert_eq!(RecordKind::Business.url(7), "/businesses/7");
        assert_eq!(RecordKind::Contact.url(7), "/contacts/7");
        assert_eq!(RecordKind::Business.identifiers(), "domains");
        assert_eq!(RecordKind::Contact.identifier(), "address");
    }
}
