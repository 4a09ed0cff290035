//! Secrets: random tokens, their hashes (what the database keeps) and constant-time comparison.

use sha2::{Digest, Sha256};

/// Fills `dest` from the operating system's CSPRNG.
///
/// The OS generator failing is not something a server can carry on from.
pub fn fill_random(dest: &mut [u8]) {
    #[allow(clippy::expect_used)]
    getrandom::fill(dest).expect("the operating system's random source failed");
}

/// A new opaque token: 192 random bits as 48 lower-case hex characters.
pub fn new_token() -> String {
    let mut bytes = [0u8; 24];
    fill_random(&mut bytes);
    hex(&bytes)
}

/// A random positive 63-bit id: needs no coordination, so any node may mint one.
pub fn new_id() -> i64 {
    let mut bytes = [0u8; 8];
    fill_random(&mut bytes);
    (u64::from_le_bytes(bytes) >> 1) as i64
}

/// A short id for questions, texts and cards: 20 hex characters, a 24-bit sequence number
/// then 56 random bits.
///
/// The ids of a process follow one another (from a random start, wrapping after 16.7
/// million), so the database indexes them by appending at the end of the event's range
/// instead of writing a random index page for every text answer; the random part keeps
/// them unguessable and unique across restarts and nodes.
pub fn new_item_id() -> String {
    static NEXT: std::sync::OnceLock<std::sync::atomic::AtomicU32> = std::sync::OnceLock::new();
    let next = NEXT.get_or_init(|| {
        let mut start = [0u8; 4];
        fill_random(&mut start);
        std::sync::atomic::AtomicU32::new(u32::from_le_bytes(start))
    });
    let seq = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut bytes = [0u8; 10];
    bytes[..3].copy_from_slice(&seq.to_be_bytes()[1..]);
    fill_random(&mut bytes[3..]);
    hex(&bytes)
}

/// What is stored in place of a token: its SHA-256, hex-encoded. A leaked database does not
/// let anyone act as a host or an attendee.
pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether `token` hashes to `stored_hash`, compared in constant time.
pub fn token_matches(token: &str, stored_hash: &str) -> bool {
    constant_time_eq(hash_token(token).as_bytes(), stored_hash.as_bytes())
}

/// Whether `text` has the shape of a [`new_token`]: 48 lower-case hex characters.
pub fn is_token(text: &str) -> bool {
    text.len() == 48 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 48);
        assert_ne!(a, b);
    }

    #[test]
    fn token_matches_only_its_own_hash() {
        let token = new_token();
        let stored = hash_token(&token);
        assert!(token_matches(&token, &stored));
        assert!(!token_matches(&new_token(), &stored));
        assert!(!token_matches("", &stored));
    }

    #[test]
    fn item_ids_are_20_hex_distinct_and_follow_one_another() {
        let ids: Vec<String> = (0..1000).map(|_| new_item_id()).collect();
        assert!(
            ids.iter()
                .all(|id| id.len() == 20 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        );
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        let seq = |id: &str| u32::from_str_radix(&id[..6], 16).expect("hex");
        for pair in ids.windows(2) {
            // Later ids come later (modulo 2^24), whatever other threads take meanwhile.
            let step = seq(&pair[1]).wrapping_sub(seq(&pair[0])) & 0xFF_FFFF;
            assert!((1..1 << 20).contains(&step), "{pair:?}");
        }
    }

    #[test]
    fn ids_are_positive() {
        for _ in 0..1000 {
            assert!(new_id() >= 0);
        }
    }
}
