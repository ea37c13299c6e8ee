//! attribution span tests.
