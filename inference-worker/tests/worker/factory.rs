//! factory tests.
