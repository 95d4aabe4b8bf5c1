//! Roadmap document parsers.
