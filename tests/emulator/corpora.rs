//! corpora placeholder
