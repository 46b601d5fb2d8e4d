//! Reading `/metrics` as Prometheus does: the text parsed by the format's grammar, and the
//! figures a dashboard would compute from it.
use std::collections::{BTreeMap, BTreeSet};

use openmetrics_parser::prometheus::parse_prometheus;
use openmetrics_parser::{MetricsExposition, PrometheusType, PrometheusValue};
use reqwest::StatusCode;

use crate::support::TestApp;

/// The bearer token the metrics tests configure.
pub const TOKEN: &str = "s3cret-scrape-token";

/// A scrape, and the figures a dashboard would read from it.
pub struct Figures(pub MetricsExposition<PrometheusType, PrometheusValue>);

impl Figures {
    pub fn parse(text: &str) -> Self {
        Self(parse_prometheus(text).unwrap_or_else(|e| panic!("{e:?} in:\n{text}")))
    }

    /// `(labels, value)` of every series of `metric` (a histogram: its count).
    pub fn series(&self, metric: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        let Some(family) = self.0.families.get(metric) else {
            return Vec::new();
        };
        family
            .iter_samples()
            .map(|s| {
                let labels = s
                    .get_labelset()
                    .expect("labels")
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                #[allow(clippy::cast_precision_loss)]
                let value = match &s.value {
                    PrometheusValue::Counter(c) => c.value.as_f64(),
                    PrometheusValue::Gauge(v) | PrometheusValue::Unknown(v) => v.as_f64(),
                    PrometheusValue::Histogram(h) => h.count.unwrap_or_default() as f64,
                    PrometheusValue::Summary(_) => panic!("{metric} is a summary"),
                };
                (labels, value)
            })
            .collect()
    }

    /// The sum over the series of `metric` carrying `labels` (a histogram: its count).
    pub fn value(&self, metric: &str, labels: &[(&str, &str)]) -> f64 {
        self.series(metric)
            .into_iter()
            .filter(|(l, _)| {
                labels
                    .iter()
                    .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, v)| v)
            .sum()
    }

    /// A gauge of things counted (mailboxes, jobs), as a whole number.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    pub fn count(&self, metric: &str, labels: &[(&str, &str)]) -> u64 {
        self.value(metric, labels).round() as u64
    }

    /// Metric family names.
    pub fn names(&self) -> BTreeSet<String> {
        self.0.families.keys().cloned().collect()
    }
}

/// GET /metrics with [`TOKEN`]: 200, in the text format.
pub async fn scrape(app: &TestApp) -> Figures {
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    Figures::parse(&res.text().await.unwrap())
}
