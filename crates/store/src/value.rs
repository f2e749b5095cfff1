//! Values passed to and read from either backend.
//!
//! Why typed nulls: PostgreSQL checks every parameter's type against the
//! column, NULL included, so a value carries its type even when absent.
//! Every column of the schema is one of these three types (`BIGINT`,
//! `DOUBLE PRECISION`, `TEXT`), which both databases store natively.

/// A parameter or a column value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// `BIGINT`.
    Int(Option<i64>),
    /// `DOUBLE PRECISION`.
    Real(Option<f64>),
    /// `TEXT`.
    Text(Option<String>),
}

impl Value {
    /// A text value.
    pub(crate) fn text(s: impl Into<String>) -> Value {
        Value::Text(Some(s.into()))
    }

    /// An optional text value.
    pub(crate) fn opt_text(s: Option<&str>) -> Value {
        Value::Text(s.map(str::to_owned))
    }

    /// An integer value.
    pub(crate) fn int(i: impl Into<i64>) -> Value {
        Value::Int(Some(i.into()))
    }
}

/// One result row.
#[derive(Clone, Debug, Default)]
pub(crate) struct Row(pub(crate) Vec<Value>);

impl Row {
    /// Column `i` as an integer (NULL and text are `None`).
    pub(crate) fn int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Value::Int(v)) => *v,
            Some(Value::Real(v)) => v.map(|f| f as i64),
            _ => None,
        }
    }

    /// Column `i` as a float.
    pub(crate) fn real(&self, i: usize) -> Option<f64> {
        match self.0.get(i) {
            Some(Value::Real(v)) => *v,
            Some(Value::Int(v)) => v.map(|n| n as f64),
            _ => None,
        }
    }

    /// Column `i` as text.
    pub(crate) fn text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Value::Text(v)) => v.clone(),
            _ => None,
        }
    }

    /// Column `i` as text, empty when NULL.
    pub(crate) fn str(&self, i: usize) -> &str {
        match self.0.get(i) {
            Some(Value::Text(Some(v))) => v,
            _ => "",
        }
    }
}
