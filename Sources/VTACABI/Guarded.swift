#if canImport(Glibc)
import Glibc
#endif

/// State behind a plain pthread mutex.
///
/// Not `Synchronization.Mutex`: its `withLock` demands `sending` results, and the tables here
/// hand out pointers and non-`Sendable` queue state that never leave the library's control.
/// The mutex is not recursive on purpose: no entry point calls user code (a kernel's `finit`)
/// while holding it, so re-entry would be a bug worth deadlocking on in tests rather than hiding.
final class Guarded<State>: @unchecked Sendable {
    // @unchecked: `state` is only touched inside `withLock`.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var state: State

    init(_ state: State) {
        self.state = state
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
