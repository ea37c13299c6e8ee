//! The binary merkle tree that commits to a datanet version's content.
//!
//! A published datanet version stores the root of this tree over the content
//! hashes of its contributions, in contribution-id order. The off-chain
//! worker rebuilds the same root from the payloads it fetched to prove it
//! trained on exactly that version, so the construction is fixed here, byte
//! for byte:
//!
//! - `H` is BLAKE2b with a 256-bit output and no key (`blake2_256`).
//! - Each leaf (a 32-byte content hash) becomes the node `H(0x00 ++ leaf)`.
//! - Nodes are paired left to right; a pair becomes `H(0x01 ++ left ++
//!   right)`. An odd node at the end of a level is promoted unchanged to the
//!   next level (it is not hashed with itself).
//! - Levels are built until one node remains: that node is the root.
//! - The root of no leaves is 32 zero bytes; the root of one leaf is its leaf
//!   node `H(0x00 ++ leaf)`.
//!
//! The distinct prefixes for leaf and inner nodes stop a leaf from being
//! passed off as an inner node (second-preimage attacks). Promoting the odd
//! node, rather than duplicating it, keeps `[a, b, c]` and `[a, b, c, c]` from
//! sharing a root.

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use polkadot_sdk::sp_crypto_hashing::blake2_256;
use scale_info::TypeInfo;

/// A 32-byte hash: a leaf, a node or a root.
pub type Hash32 = [u8; 32];

/// Prefix of a hashed leaf.
const LEAF_PREFIX: u8 = 0x00;
/// Prefix of a hashed pair of nodes.
const INNER_PREFIX: u8 = 0x01;

/// The root committed to by an empty tree.
pub const EMPTY_ROOT: Hash32 = [0u8; 32];

/// The node a leaf becomes: `H(0x00 ++ leaf)`.
pub fn leaf_node(leaf: &Hash32) -> Hash32 {
	let mut preimage = [0u8; 33];
	let (prefix, body) = preimage.split_at_mut(1);
	prefix.copy_from_slice(&[LEAF_PREFIX]);
	body.copy_from_slice(leaf);
	blake2_256(&preimage)
}

/// The parent of two nodes: `H(0x01 ++ left ++ right)`.
pub fn inner_node(left: &Hash32, right: &Hash32) -> Hash32 {
	let mut preimage = [0u8; 65];
	let (prefix, rest) = preimage.split_at_mut(1);
	let (left_part, right_part) = rest.split_at_mut(32);
	prefix.copy_from_slice(&[INNER_PREFIX]);
	left_part.copy_from_slice(left);
	right_part.copy_from_slice(right);
	blake2_256(&preimage)
}

/// The level above `level`: pairs hashed, an odd last node promoted as is.
fn parent_level(level: &[Hash32]) -> Vec<Hash32> {
	let mut parents = Vec::with_capacity(level.len().div_ceil(2));
	let mut nodes = level.iter();
	while let Some(left) = nodes.next() {
		parents.push(match nodes.next() {
			Some(right) => inner_node(left, right),
			None => *left,
		});
	}
	parents
}

/// The merkle root of `leaves`, in the order given (see the module docs).
pub fn merkle_root(leaves: &[Hash32]) -> Hash32 {
	let mut level: Vec<Hash32> = leaves.iter().map(leaf_node).collect();
	while level.len() > 1 {
		level = parent_level(&level);
	}
	level.first().copied().unwrap_or(EMPTY_ROOT)
}

/// Evidence that one leaf sits at `leaf_index` of a tree of `leaf_count`
/// leaves: the sibling of each node on the path from the leaf to the root,
/// bottom up. Levels where the path node is promoted contribute no sibling.
#[derive(Encode, Decode, DecodeWithMemTracking, TypeInfo, Clone, PartialEq, Eq, Debug)]
pub struct MerkleProof {
	/// Position of the leaf, counted from zero.
	pub leaf_index: u32,
	/// How many leaves the tree has.
	pub leaf_count: u32,
	/// Sibling nodes from the leaf's level up to just below the root.
	pub siblings: Vec<Hash32>,
}

/// The proof for the leaf at `index`, or `None` if there is no such leaf.
pub fn merkle_proof(leaves: &[Hash32], index: usize) -> Option<MerkleProof> {
	let leaf_index = u32::try_from(index).ok()?;
	let leaf_count = u32::try_from(leaves.len()).ok()?;
	if index >= leaves.len() {
		return None;
	}
	let mut level: Vec<Hash32> = leaves.iter().map(leaf_node).collect();
	let mut position = index;
	let mut siblings = Vec::new();
	while level.len() > 1 {
		// The sibling of an even position is the next node, of an odd one the
		// previous; a missing sibling means the node is promoted.
		if let Some(sibling) = level.get(position ^ 1) {
			siblings.push(*sibling);
		}
		position /= 2;
		level = parent_level(&level);
	}
	Some(MerkleProof {
		leaf_index,
		leaf_count,
		siblings,
	})
}

/// Whether `proof` shows that `leaf` is in the tree whose root is `root`.
pub fn verify_proof(root: &Hash32, leaf: &Hash32, proof: &MerkleProof) -> bool {
	let (mut position, mut width) = (proof.leaf_index, proof.leaf_count);
	if position >= width {
		return false;
	}
	let mut node = leaf_node(leaf);
	let mut siblings = proof.siblings.iter();
	while width > 1 {
		let is_right_child = position % 2 == 1;
		let has_right_sibling = position.checked_add(1).is_some_and(|next| next < width);
		if is_right_child {
			let Some(sibling) = siblings.next() else {
				return false;
			};
			node = inner_node(sibling, &node);
		} else if has_right_sibling {
			let Some(sibling) = siblings.next() else {
				return false;
			};
			node = inner_node(&node, sibling);
		}
		position /= 2;
		width = width.div_ceil(2);
	}
	siblings.next().is_none() && node == *root
}

#[cfg(test)]
mod tests {
	use super::*;

	fn hex(hash: &Hash32) -> String {
		hash.iter().map(|byte| format!("{byte:02x}")).collect()
	}

	/// `n` distinct leaves: the content hashes of the payloads "leaf-0", "leaf-1", ...
	fn leaves(n: usize) -> Vec<Hash32> {
		(0..n)
			.map(|i| blake2_256(format!("leaf-{i}").as_bytes()))
			.collect()
	}

	#[test]
	fn empty_tree_has_the_zero_root() {
		assert_eq!(merkle_root(&[]), EMPTY_ROOT);
		assert_eq!(merkle_proof(&[], 0), None);
	}

	#[test]
	fn single_leaf_root_is_its_leaf_node() {
		let leaf = [7u8; 32];
		assert_eq!(merkle_root(&[leaf]), leaf_node(&leaf));
	}

	/// Fixed vectors, computed once with an independent BLAKE2b-256 (Python's
	/// `hashlib.blake2b(digest_size=32)`) from the rules in the module docs.
	/// If these change, every published version's root changes: don't.
	#[test]
	fn fixed_test_vectors() {
		let (a, b, c) = ([0x01u8; 32], [0x02u8; 32], [0x03u8; 32]);
		assert_eq!(
			hex(&merkle_root(&[a])),
			"6bf22d230bc6f17e2dc9bdce220e8696630a067ab5029fb66d91e6ecd74c7c54",
		);
		assert_eq!(
			hex(&merkle_root(&[a, b])),
			"e7ee5228698f31758aa7e13445bc54d4c4b37303a90d5ca4677fad9976d1187b",
		);
		assert_eq!(
			hex(&merkle_root(&[a, b, c])),
			"a7346514f635523b73d3adb12bf49a26cf1a8063afc422025e203cde74e5ecbe",
		);
		assert_eq!(
			hex(&merkle_root(&leaves(5))),
			"b85a9c7030a91baf7e74452afc8766f399b40672727236ddc17ba3ce5295718f",
		);
	}

	#[test]
	fn structure_matches_the_definition() {
		let (a, b, c) = ([0x01u8; 32], [0x02u8; 32], [0x03u8; 32]);
		let ab = inner_node(&leaf_node(&a), &leaf_node(&b));
		assert_eq!(merkle_root(&[a, b]), ab);
		// `c` is promoted unchanged, then paired with `ab`.
		assert_eq!(merkle_root(&[a, b, c]), inner_node(&ab, &leaf_node(&c)));
	}

	#[test]
	fn order_matters() {
		for n in 2..=17 {
			let forward = leaves(n);
			let mut swapped = forward.clone();
			swapped.swap(0, n - 1);
			assert_ne!(merkle_root(&forward), merkle_root(&swapped), "n = {n}");
			let mut reversed = forward.clone();
			reversed.reverse();
			assert_ne!(merkle_root(&forward), merkle_root(&reversed), "n = {n}");
		}
	}

	#[test]
	fn odd_node_is_promoted_not_duplicated() {
		let three = leaves(3);
		let mut four = three.clone();
		four.push(three[2]);
		assert_ne!(merkle_root(&three), merkle_root(&four));
	}

	#[test]
	fn every_proof_verifies_for_every_tree_size() {
		for n in 1..=33 {
			let tree = leaves(n);
			let root = merkle_root(&tree);
			for (index, leaf) in tree.iter().enumerate() {
				let proof = merkle_proof(&tree, index).expect("leaf exists");
				assert!(
					verify_proof(&root, leaf, &proof),
					"n = {n}, index = {index}"
				);
				// The sibling count is at most the tree's height.
				assert!(proof.siblings.len() <= (usize::BITS - (n - 1).leading_zeros()) as usize);
			}
			assert_eq!(merkle_proof(&tree, n), None);
		}
	}

	#[test]
	fn proofs_do_not_verify_what_they_do_not_prove() {
		for n in 2..=20 {
			let tree = leaves(n);
			let root = merkle_root(&tree);
			for index in 0..n {
				let proof = merkle_proof(&tree, index).unwrap();
				let leaf = tree[index];
				let other = tree[(index + 1) % n];
				// Another leaf at this position.
				assert!(!verify_proof(&root, &other, &proof));
				// This leaf against another root.
				assert!(!verify_proof(&merkle_root(&tree[1..]), &leaf, &proof));
				// This leaf claimed at another position.
				let moved = MerkleProof {
					leaf_index: ((index + 1) % n) as u32,
					..proof.clone()
				};
				assert!(!verify_proof(&root, &leaf, &moved));
				// A tampered sibling.
				let mut tampered = proof.clone();
				tampered.siblings[0][0] ^= 1;
				assert!(!verify_proof(&root, &leaf, &tampered));
				// A sibling too many or too few.
				let mut longer = proof.clone();
				longer.siblings.push([0u8; 32]);
				assert!(!verify_proof(&root, &leaf, &longer));
				let mut shorter = proof.clone();
				shorter.siblings.pop();
				assert!(!verify_proof(&root, &leaf, &shorter));
				// An index past the end.
				let past_end = MerkleProof {
					leaf_index: n as u32,
					..proof
				};
				assert!(!verify_proof(&root, &leaf, &past_end));
			}
		}
	}

	#[test]
	fn inner_nodes_cannot_pose_as_leaves() {
		// Passing an inner node off as a leaf must not reproduce the root.
		let tree = leaves(4);
		let root = merkle_root(&tree);
		let left = inner_node(&leaf_node(&tree[0]), &leaf_node(&tree[1]));
		let right = inner_node(&leaf_node(&tree[2]), &leaf_node(&tree[3]));
		assert_ne!(merkle_root(&[left, right]), root);
	}
}
