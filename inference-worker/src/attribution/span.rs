//! Span attribution: maximal output spans found in a suffix array over the tokenized datanet version.
