//! Hashes, keys and signatures as `0x`-prefixed lowercase hex, the way the
//! chain's JSON shows them.

/// `0x`-prefixed lowercase hex of `bytes`.
pub fn hex_bytes(bytes: &[u8]) -> String {
	let mut out = String::with_capacity(2 + 2 * bytes.len());
	out.push_str("0x");
	for byte in bytes {
		out.push_str(&format!("{byte:02x}"));
	}
	out
}

/// `0x`-prefixed lowercase hex, as the chain's JSON shows hashes.
pub fn hex_hash(hash: &[u8; 32]) -> String {
	hex_bytes(hash)
}

/// Exactly `N` bytes from hex (the inverse of [`hex_bytes`]); the `0x`
/// prefix is optional.
pub fn parse_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
	let digits = text.strip_prefix("0x").unwrap_or(text);
	if digits.len() != 2 * N || !digits.is_ascii() {
		return None;
	}
	let mut bytes = [0u8; N];
	for (byte, pair) in bytes.iter_mut().zip(digits.as_bytes().chunks_exact(2)) {
		let pair = std::str::from_utf8(pair).ok()?;
		*byte = u8::from_str_radix(pair, 16).ok()?;
	}
	Some(bytes)
}

/// The inverse of [`hex_hash`]; the `0x` prefix is optional.
pub fn parse_hex_hash(text: &str) -> Option<[u8; 32]> {
	parse_hex(text)
}

/// Serde for byte arrays as `0x` hex strings (`#[serde(with = ...)]`).
pub mod serde_hex {
	use serde::{Deserialize, Deserializer, Serializer};

	pub fn serialize<S: Serializer, const N: usize>(
		bytes: &[u8; N],
		serializer: S,
	) -> Result<S::Ok, S::Error> {
		serializer.serialize_str(&super::hex_bytes(bytes))
	}

	pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
		deserializer: D,
	) -> Result<[u8; N], D::Error> {
		let text = String::deserialize(deserializer)?;
		super::parse_hex(&text)
			.ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not {N} bytes of hex")))
	}
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
		let signature = [7u8; 64];
		assert_eq!(parse_hex::<64>(&hex_bytes(&signature)), Some(signature));
		assert_eq!(parse_hex::<64>(&text), None);
	}
}
