//! Host-discovery probes (`-PE`, `-PP`, `-PM`, `-PS`, `-PA`, `-PU`, `-PR`, ND): being written.
