//! `application/x-www-form-urlencoded` bodies: fields to scan, and the body again after
//! redaction.

/// The fields of a form body, in order, decoded.
pub fn parse(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Encodes `fields` as a form body.
pub fn encode(fields: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let f = parse("prompt=hello+world&note=a%26b%3Dc&empty=");
        assert_eq!(
            f,
            [
                ("prompt".to_string(), "hello world".to_string()),
                ("note".into(), "a&b=c".into()),
                ("empty".into(), String::new())
            ]
        );
        assert_eq!(parse(&encode(&f)), f);
    }
}
