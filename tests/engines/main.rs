//! The pure engines, without the app: mail threading (the mail-threading conformance corpus,
//! table-driven cases, properties) and MIME normalization (real-world message corpora); and the
//! shape of the code itself (architecture: the layering of `src/` holds).
mod architecture;
mod assign;
mod cases;
mod conformance;
mod normalize;
mod normalize_python;
mod props;
mod support;
