//! Host tests of the nested API v2 core.
