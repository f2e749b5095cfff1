//! UDP scanning (`-sU`): being written.
