//! Which source files go into the package.
