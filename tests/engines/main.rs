//! The pure engines, without the app: mail threading (the mail-threading conformance corpus,
//! table-driven cases, properties) and MIME normalization (real-world message corpora).
mod assign;
mod cases;
mod conformance;
mod normalize;
mod props;
mod support;
