//! The threading engine: the mail-threading conformance corpus, table-driven cases, properties.
#[path = "threading/assign.rs"]
mod assign;
#[path = "threading/cases.rs"]
mod cases;
#[path = "threading/conformance.rs"]
mod conformance;
#[path = "threading/props.rs"]
mod props;
#[path = "threading/support.rs"]
mod support;
