import VTA
import VTAProtocol

#if canImport(Glibc)
import Glibc
#endif

/// A verified job waiting for, or on, the device.
final class Job: @unchecked Sendable {
    // @unchecked: created by the I/O thread, then owned by the scheduler under its lock and by
    // the device thread while it runs; never touched by two threads at once.
    let id: UInt64
    let session: UInt64
    /// The daemon's private copy of the instruction stream (clients cannot change it any more).
    let instructions: any DMABuffer
    let count: Int
    let timeout: Duration
    /// For boards: the bytes of each client buffer the job reads (copied in before the run) and
    /// writes (copied back after it). Buffers cannot be freed while their job is queued.
    let transfers: [Transfer]

    struct Transfer {
        let buffer: SharedBuffer
        var reads: Range<Int>?
        var writes: Range<Int>?
    }

    init(id: UInt64, session: UInt64, instructions: any DMABuffer, count: Int, timeout: Duration, transfers: [Transfer] = []) {
        self.id = id
        self.session = session
        self.instructions = instructions
        self.count = count
        self.timeout = timeout
        self.transfers = transfers
    }
}

/// A mutex and condition variable (pthread), for the device thread's wait.
final class ConditionLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits for a signal; call with the lock held (inside `locked`).
    func wait() { pthread_cond_wait(cond, mutex) }
    func broadcast() { pthread_cond_broadcast(cond) }
}

/// Per-client FIFOs served round-robin, bounded per client; one device owner takes from it.
final class Scheduler: @unchecked Sendable {
    // @unchecked: all mutable state is behind `lock`.
    let lock = ConditionLock()
    private var queues: [UInt64: [Job]] = [:]
    private var order: [UInt64] = []
    private var cursor = 0
    private(set) var running: Job?
    private(set) var stopping = false
    let maxQueuedPerClient: Int

    init(maxQueuedPerClient: Int) { self.maxQueuedPerClient = maxQueuedPerClient }

    /// Queues a job; false if the client's queue is full.
    func enqueue(_ job: Job) -> Bool {
        lock.locked {
            var q = queues[job.session] ?? []
            guard q.count < maxQueuedPerClient else { return false }
            q.append(job)
            queues[job.session] = q
            if !order.contains(job.session) { order.append(job.session) }
            lock.broadcast()
            return true
        }
    }

    /// Removes a queued job (not the running one).
    func cancel(job id: UInt64, session: UInt64) -> Job? {
        lock.locked {
            guard var q = queues[session], let i = q.firstIndex(where: { $0.id == id }) else { return nil }
            let job = q.remove(at: i)
            queues[session] = q
            return job
        }
    }

    /// Removes every queued job of a client; says whether one of its jobs is running.
    func removeAll(session: UInt64) -> (removed: [Job], running: Bool) {
        lock.locked {
            let removed = queues.removeValue(forKey: session) ?? []
            order.removeAll { $0 == session }
            return (removed, running?.session == session)
        }
    }

    func queued(session: UInt64) -> Int { lock.locked { queues[session]?.count ?? 0 } }
    var depth: Int { lock.locked { queues.values.reduce(0) { $0 + $1.count } + (running == nil ? 0 : 1) } }
    func isRunning(session: UInt64) -> Bool { lock.locked { running?.session == session } }

    /// Blocks until a job is available (round-robin over clients) or the scheduler is stopped
    /// and drained; nil means stop.
    func next() -> Job? {
        lock.locked {
            while true {
                if !order.isEmpty {
                    for step in 0..<order.count {
                        let idx = (cursor + step) % order.count
                        let session = order[idx]
                        if var q = queues[session], !q.isEmpty {
                            let job = q.removeFirst()
                            queues[session] = q
                            cursor = (idx + 1) % order.count
                            running = job
                            return job
                        }
                    }
                }
                if stopping { return nil }
                lock.wait()
            }
        }
    }

    func finished() { lock.locked { running = nil } }

    /// Lets queued jobs drain, then makes `next()` return nil.
    func stop() {
        lock.locked {
            stopping = true
            lock.broadcast()
        }
    }
}
