//! The part of Structured Field Values (RFC 8941) that RFC 9421 signatures use: a dictionary
//! (`Signature-Input`, `Signature`, `Content-Digest`) whose members are items or inner lists
//! with parameters; items are integers, strings, tokens, byte sequences and booleans.
//!
//! Parsing is strict, so that one reading of a header exists: anything RFC 8941 does not
//! allow is an error, and so is a key given twice in a dictionary or a parameter list (RFC
//! 8941 keeps the last one; a signature checked against one copy while something else reads
//! the other is what we refuse). Decimals, dates and display strings are refused: no
//! signature parameter uses them. [`serialize_inner_list`] writes the canonical form back,
//! which is what RFC 9421 signs as `@signature-params`.

use base64::{Engine, engine::general_purpose::STANDARD as BASE64};

/// A bare item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Integer(i64),
    String(String),
    Token(String),
    Bytes(Vec<u8>),
    Boolean(bool),
}

/// Parameters, in order.
pub type Params = Vec<(String, Item)>;

/// A dictionary member: an item or an inner list, each with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Member {
    Item(Item, Params),
    InnerList(Vec<(Item, Params)>, Params),
}

/// Longest header value parsed: real signature headers are well under 2 KiB.
pub const MAX_FIELD_LEN: usize = 8 * 1024;

struct Parser<'a> {
    input: &'a [u8],
    at: usize,
}

type Parsed<T> = Result<T, String>;

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.at).copied()
    }

    fn skip_sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.at += 1;
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Parsed<()> {
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at {}", byte as char, self.at))
        }
    }

    fn key(&mut self) -> Parsed<String> {
        let start = self.at;
        match self.peek() {
            Some(b'a'..=b'z' | b'*') => self.at += 1,
            _ => return Err(format!("a key must start with a-z or * at {start}")),
        }
        while let Some(b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'*') = self.peek() {
            self.at += 1;
        }
        Ok(String::from_utf8_lossy(&self.input[start..self.at]).into_owned())
    }

    fn bare_item(&mut self) -> Parsed<Item> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.integer(),
            Some(b'"') => self.string(),
            Some(b':') => self.bytes(),
            Some(b'?') => self.boolean(),
            Some(b'A'..=b'Z' | b'a'..=b'z' | b'*') => Ok(self.token()),
            _ => Err(format!("no item at {}", self.at)),
        }
    }

    fn integer(&mut self) -> Parsed<Item> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        let digits = self.at;
        while let Some(b'0'..=b'9') = self.peek() {
            self.at += 1;
        }
        let count = self.at - digits;
        if count == 0 || count > 15 {
            return Err(format!("integer of {count} digits at {start}"));
        }
        if self.peek() == Some(b'.') {
            return Err(format!("decimals are not accepted (at {start})"));
        }
        std::str::from_utf8(&self.input[start..self.at])
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Item::Integer)
            .ok_or_else(|| format!("bad integer at {start}"))
    }

    fn string(&mut self) -> Parsed<Item> {
        self.expect(b'"')?;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err("unterminated string".into()),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(Item::String(out));
                }
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => out.push(c as char),
                        _ => return Err(format!("bad escape at {}", self.at)),
                    }
                    self.at += 1;
                }
                Some(c @ 0x20..=0x7e) => {
                    out.push(c as char);
                    self.at += 1;
                }
                Some(_) => return Err(format!("character not allowed in a string at {}", self.at)),
            }
        }
    }

    fn token(&mut self) -> Item {
        let start = self.at;
        self.at += 1;
        while let Some(c) = self.peek() {
            let tchar = c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&c);
            if !tchar {
                break;
            }
            self.at += 1;
        }
        Item::Token(String::from_utf8_lossy(&self.input[start..self.at]).into_owned())
    }

    fn bytes(&mut self) -> Parsed<Item> {
        self.expect(b':')?;
        let start = self.at;
        while let Some(c) = self.peek() {
            if c == b':' {
                break;
            }
            if !(c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=') {
                return Err(format!(
                    "character not allowed in a byte sequence at {}",
                    self.at
                ));
            }
            self.at += 1;
        }
        let text = &self.input[start..self.at];
        self.expect(b':')?;
        BASE64
            .decode(text)
            .map(Item::Bytes)
            .map_err(|_| format!("byte sequence at {start} is not base64"))
    }

    fn boolean(&mut self) -> Parsed<Item> {
        self.expect(b'?')?;
        let value = match self.peek() {
            Some(b'1') => true,
            Some(b'0') => false,
            _ => return Err(format!("bad boolean at {}", self.at)),
        };
        self.at += 1;
        Ok(Item::Boolean(value))
    }

    fn params(&mut self) -> Parsed<Params> {
        let mut params: Params = Vec::new();
        while self.peek() == Some(b';') {
            self.at += 1;
            self.skip_sp();
            let key = self.key()?;
            let value = if self.peek() == Some(b'=') {
                self.at += 1;
                self.bare_item()?
            } else {
                Item::Boolean(true)
            };
            if params.iter().any(|(k, _)| *k == key) {
                return Err(format!("parameter {key} given twice"));
            }
            params.push((key, value));
        }
        Ok(params)
    }

    fn inner_list(&mut self) -> Parsed<Member> {
        self.expect(b'(')?;
        let mut items = Vec::new();
        loop {
            self.skip_sp();
            if self.peek() == Some(b')') {
                self.at += 1;
                let params = self.params()?;
                return Ok(Member::InnerList(items, params));
            }
            let item = self.bare_item()?;
            let params = self.params()?;
            items.push((item, params));
            match self.peek() {
                Some(b' ' | b')') => {}
                _ => return Err(format!("inner list not closed at {}", self.at)),
            }
        }
    }
}

/// Parses a dictionary field value (several header lines are joined with `, ` first).
pub fn parse_dictionary(value: &str) -> Result<Vec<(String, Member)>, String> {
    if value.len() > MAX_FIELD_LEN {
        return Err("field too long".into());
    }
    let mut parser = Parser {
        input: value.as_bytes(),
        at: 0,
    };
    let mut members: Vec<(String, Member)> = Vec::new();
    parser.skip_sp();
    while parser.peek().is_some() {
        let key = parser.key()?;
        let member = if parser.peek() == Some(b'=') {
            parser.at += 1;
            if parser.peek() == Some(b'(') {
                parser.inner_list()?
            } else {
                let item = parser.bare_item()?;
                Member::Item(item, parser.params()?)
            }
        } else {
            Member::Item(Item::Boolean(true), parser.params()?)
        };
        if members.iter().any(|(k, _)| *k == key) {
            return Err(format!("member {key} given twice"));
        }
        members.push((key, member));
        parser.skip_ows();
        if parser.peek().is_none() {
            break;
        }
        parser.expect(b',')?;
        parser.skip_ows();
        if parser.peek().is_none() {
            return Err("trailing comma".into());
        }
    }
    Ok(members)
}

/// The canonical text of an item.
pub fn serialize_item(item: &Item) -> String {
    match item {
        Item::Integer(n) => n.to_string(),
        Item::String(s) => {
            let escaped = s.replace('\\', "\\\\").replace('"', "\\\"");
            format!("\"{escaped}\"")
        }
        Item::Token(t) => t.clone(),
        Item::Bytes(b) => format!(":{}:", BASE64.encode(b)),
        Item::Boolean(true) => "?1".into(),
        Item::Boolean(false) => "?0".into(),
    }
}

/// The canonical text of parameters (`;name=value`, a true boolean as `;name`).
pub fn serialize_params(params: &Params) -> String {
    params
        .iter()
        .map(|(k, v)| match v {
            Item::Boolean(true) => format!(";{k}"),
            other => format!(";{k}={}", serialize_item(other)),
        })
        .collect()
}

/// The canonical text of an inner list with its parameters.
pub fn serialize_inner_list(items: &[(Item, Params)], params: &Params) -> String {
    let inner: Vec<String> = items
        .iter()
        .map(|(item, p)| format!("{}{}", serialize_item(item), serialize_params(p)))
        .collect();
    format!("({}){}", inner.join(" "), serialize_params(params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_input_round_trips() {
        let text = "sig1=(\"@method\" \"@target-uri\" \"content-digest\";req);created=1618884473;\
                    keyid=\"https://a.example/u#k\";alg=\"rsa-v1_5-sha256\", sig2=()";
        let dict = parse_dictionary(text).expect("parses");
        assert_eq!(dict.len(), 2);
        let Member::InnerList(items, params) = &dict[0].1 else {
            panic!("inner list");
        };
        assert_eq!(items[0].0, Item::String("@method".into()));
        assert_eq!(items[2].1, vec![("req".into(), Item::Boolean(true))]);
        assert_eq!(params[0], ("created".into(), Item::Integer(1_618_884_473)));
        assert_eq!(
            serialize_inner_list(items, params),
            "(\"@method\" \"@target-uri\" \"content-digest\";req);created=1618884473;\
             keyid=\"https://a.example/u#k\";alg=\"rsa-v1_5-sha256\""
        );
        assert_eq!(dict[1].1, Member::InnerList(vec![], vec![]));
    }

    #[test]
    fn items_of_every_kind() {
        let dict = parse_dictionary("a=:aGk=:, b=?0, c, d=tok/en, e=-12, f=\"q\\\"uote\"")
            .expect("parses");
        let items: Vec<&Member> = dict.iter().map(|(_, m)| m).collect();
        assert_eq!(*items[0], Member::Item(Item::Bytes(b"hi".to_vec()), vec![]));
        assert_eq!(*items[1], Member::Item(Item::Boolean(false), vec![]));
        assert_eq!(*items[2], Member::Item(Item::Boolean(true), vec![]));
        assert_eq!(
            *items[3],
            Member::Item(Item::Token("tok/en".into()), vec![])
        );
        assert_eq!(*items[4], Member::Item(Item::Integer(-12), vec![]));
        assert_eq!(
            *items[5],
            Member::Item(Item::String("q\"uote".into()), vec![])
        );
        assert_eq!(
            serialize_item(&Item::String("q\"uote".into())),
            "\"q\\\"uote\""
        );
    }

    #[test]
    fn what_could_be_read_two_ways_is_refused() {
        for bad in [
            "sig1=:YQ==:, sig1=:Yg==:",
            "sig1=();keyid=\"a\";keyid=\"b\"",
            "sig1=(\"@method\"",
            "sig1=(\"@method\"\"@path\")",
            "sig1=:not base64!:",
            "sig1=1.5",
            "Sig1=?1",
            "sig1=\"tab\there\"",
            "sig1=?1,",
            "sig1=?1 sig2=?1",
            "sig1=1234567890123456",
        ] {
            assert!(parse_dictionary(bad).is_err(), "{bad}");
        }
        assert!(parse_dictionary(&"a".repeat(MAX_FIELD_LEN + 1)).is_err());
    }
}
