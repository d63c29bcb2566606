//! Query strings of the console's own addresses (`/login?next=…`, `/users?q=…`).

/// Percent-encodes a query value; unreserved characters and '/' (valid in a query) stay.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Decodes a query value (`%XX` and `+`); a malformed escape is kept as it is.
pub fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(hi), Some(lo)) => {
                        out.push((hi * 16 + lo) as u8);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_round_trips_through_the_login_redirect() {
        let target = "/users?q=a b&page=2";
        assert_eq!(decode(&encode(target)), target);
        assert_eq!(encode("/"), "/");
        assert_eq!(decode("%2"), "%2", "a cut escape is kept as it is");
        assert_eq!(decode("%é%zz"), "%é%zz", "never panics on odd input");
    }
}
