//! 32-byte hashes as `0x`-prefixed lowercase hex, the way the chain's JSON
//! shows them.

/// `0x`-prefixed lowercase hex, as the chain's JSON shows hashes.
pub fn hex_hash(hash: &[u8; 32]) -> String {
	let mut out = String::with_capacity(66);
	out.push_str("0x");
	for byte in hash {
		out.push_str(&format!("{byte:02x}"));
	}
	out
}

/// The inverse of [`hex_hash`]; the `0x` prefix is optional.
pub fn parse_hex_hash(text: &str) -> Option<[u8; 32]> {
	let digits = text.strip_prefix("0x").unwrap_or(text);
	if digits.len() != 64 || !digits.is_ascii() {
		return None;
	}
	let mut hash = [0u8; 32];
	for (byte, pair) in hash.iter_mut().zip(digits.as_bytes().chunks_exact(2)) {
		let pair = std::str::from_utf8(pair).ok()?;
		*byte = u8::from_str_radix(pair, 16).ok()?;
	}
	Some(hash)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn hex_round_trips() {
		let hash: [u8; 32] = std::array::from_fn(|i| (i * 9) as u8);
		let text = hex_hash(&hash);
		assert_eq!(text.len(), 66);
		assert_eq!(parse_hex_hash(&text), Some(hash));
		assert_eq!(parse_hex_hash(&text[2..]), Some(hash));
		assert_eq!(parse_hex_hash("0x12"), None);
		assert_eq!(parse_hex_hash(&format!("0x{}", "zz".repeat(32))), None);
	}
}
