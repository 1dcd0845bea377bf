import ArgumentParser
import CXClient

await CX.main()
