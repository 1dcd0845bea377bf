import ArgumentParser
import CXClient

/// The `cx` executable: everything lives in the CXClient library.
@main extension CX {}
