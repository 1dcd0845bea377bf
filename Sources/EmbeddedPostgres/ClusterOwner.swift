import CXPostgres
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The operating-system user an ``EmbeddedPostgres`` cluster runs as.
///
/// Normally the current user. As root it is the `postgres` system user, because `initdb` and the
/// server refuse to run as root (a compromised server must not own the machine).
struct ClusterOwner: Sendable {
    /// The account to switch to, or `nil` to run as the current user.
    let account: Account?

    struct Account: Sendable {
        let name: String
        let uid: uid_t
        let gid: gid_t
        let runuser: String
    }

    /// Decides who owns the cluster in `dataDirectory`, checking that they can reach it.
    static func current(dataDirectory: String) throws(PostgresError) -> ClusterOwner {
        guard geteuid() == 0 else {
            return ClusterOwner(account: nil)
        }
        guard let entry = getpwnam("postgres") else {
            throw PostgresError(
                .clusterFailed,
                "running as root, the PostgreSQL cluster must run as the 'postgres' user, which does not exist; "
                    + "install the server (apt-get install postgresql creates that user) or run as a normal user"
            )
        }
        let account = Account(
            name: "postgres",
            uid: entry.pointee.pw_uid,
            gid: entry.pointee.pw_gid,
            runuser: try findRunuser()
        )
        try checkReachable(dataDirectory, by: account)
        return ClusterOwner(account: account)
    }

    /// The executable and arguments that run `program` as the owner.
    func command(_ program: String, _ arguments: [String]) -> (String, [String]) {
        guard let account else {
            return (program, arguments)
        }
        return (account.runuser, ["-u", account.name, "--", program] + arguments)
    }

    /// Gives the owner the data directory (recursively the first time) and the socket directory.
    func takeOwnership(of dataDirectory: String, socketDirectory: String) throws(PostgresError) {
        guard let account else { return }
        var info = stat()
        let alreadyOwned = stat(dataDirectory, &info) == 0 && info.st_uid == account.uid
        var paths = [dataDirectory, socketDirectory]
        if !alreadyOwned, let enumerator = FileManager.default.enumerator(atPath: dataDirectory) {
            while let relative = enumerator.nextObject() as? String {
                paths.append(dataDirectory + "/" + relative)
            }
        }
        for path in paths where lchown(path, account.uid, account.gid) != 0 {
            throw PostgresError(
                .clusterFailed,
                "could not give \(path) to the 'postgres' user: \(EmbeddedPostgres.errnoText())"
            )
        }
    }

    private static func findRunuser() throws(PostgresError) -> String {
        for candidate in ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser", "/bin/runuser"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw PostgresError(
            .clusterFailed,
            "running as root needs runuser (from util-linux) to start PostgreSQL as the 'postgres' user; "
                + "install util-linux or run as a normal user"
        )
    }

    /// Every existing ancestor of `directory` must let the account search it (execute permission),
    /// or the server could not open its own files.
    private static func checkReachable(_ directory: String, by account: Account) throws(PostgresError) {
        var ancestor = URL(fileURLWithPath: directory).deletingLastPathComponent()
        while true {
            let path = ancestor.path
            var info = stat()
            if stat(path, &info) == 0 {
                let mode = info.st_mode
                let searchable =
                    (mode & S_IXOTH) != 0
                    || (info.st_uid == account.uid && (mode & S_IXUSR) != 0)
                    || (info.st_gid == account.gid && (mode & S_IXGRP) != 0)
                if !searchable {
                    throw PostgresError(
                        .clusterFailed,
                        "the PostgreSQL cluster runs as the 'postgres' user, which cannot reach \(directory) "
                            + "because it may not enter \(path); choose a --data-dir outside such directories "
                            + "(e.g. /var/lib/cx-server) or run as a normal user"
                    )
                }
            }
            if path == "/" { break }
            ancestor = ancestor.deletingLastPathComponent()
        }
    }
}
