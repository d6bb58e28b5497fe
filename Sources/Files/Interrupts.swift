// Ctrl-C and `kill` (SIGINT, SIGTERM) leave no partial file: the temporaries and staging folders being
// written are registered here, and an interrupt removes them before the process exits with 128 + the
// signal's number. The handler runs on a dispatch queue, not in signal context.

import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum Interrupts {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var inFlight: Set<String> = []
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// Installs the handlers (once, from the command line's entry point).
    public static func install() {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                // The lock is never released: a thread about to create a temporary waits here until the
                // process ends, so nothing new appears after the clean-up.
                lock.lock()
                for path in inFlight { try? FileManager.default.removeItem(atPath: path) }
                _exit(128 + signalNumber)
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Creates `url` (a temporary file or a staging folder) with `create` and marks it as being written
    /// until `finished` is called; an interrupt cannot fall between the two.
    public static func writing<T>(_ url: URL, create: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        inFlight.insert(url.path)
        do { return try create() } catch {
            inFlight.remove(url.path)
            throw error
        }
    }

    /// `url` is in place (renamed) or removed: an interrupt no longer touches it.
    public static func finished(_ url: URL) {
        lock.lock()
        inFlight.remove(url.path)
        lock.unlock()
    }
}
