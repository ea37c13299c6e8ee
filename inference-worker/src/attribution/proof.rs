//! Receipt scores in parts per million, the proof commitment and result hash, and verification by recomputation.
