import ArgumentParser
import CXServer

await CXServerCommand.main()
