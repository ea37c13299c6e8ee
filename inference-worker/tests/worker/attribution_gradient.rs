//! attribution gradient tests.
