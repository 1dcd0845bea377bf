import ArgumentParser
import CXServer

/// The `cx-server` executable: everything lives in the CXServer library.
@main extension CXServerCommand {}
