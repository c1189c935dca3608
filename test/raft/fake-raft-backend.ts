/**
 * A FakeBackend with raft jobs kept in memory (for the REST and ctl tests): raftSubmit records a
 * queued job (or, with `settleTo`, one already finished), settle() finishes one.
 */
import type { Job, RaftJobKind } from '../../src/api/backend.js';
import { FakeBackend } from '../api/fake-backend.js';

export class RaftFakeBackend extends FakeBackend {
  raftOn = true;
  /** When set, submitted jobs are stored already in this state. */
  settleTo: Job['state'] | null = null;
  readonly raftJobList: Job[] = [];
  raftStatus(): unknown | null {
    return this.raftOn ? { id: '127.0.0.1:59001', role: 'leader', term: 3, leader: '127.0.0.1:59001', commit: 12, peers: [
      { id: '127.0.0.1:59001', role: 'voter', is_leader: true, match_index: 12, last_contact_ms: 0 },
      { id: '127.0.0.1:59002', role: 'learner', is_leader: false, match_index: 7, last_contact_ms: 150 },
    ] } : null;
  }
  async raftSubmit(kind: RaftJobKind, params: { target?: string; peer?: string }): Promise<Job> {
    const now = new Date(Date.UTC(2030, 0, 1, 0, 0, this.raftJobList.length)).toISOString();
    const job: Job = { id: `r${this.raftJobList.length + 1}`, kind, state: this.settleTo ?? 'queued', message: this.settleTo ? `${kind} done` : '', created_at: now, updated_at: now, params };
    this.raftJobList.push(job);
    return job;
  }
  async raftJobs(): Promise<readonly Job[] | null> { return this.raftJobList; }
  async raftJob(id: string): Promise<Job | null> { return this.raftJobList.find((j) => j.id === id) ?? null; }
  settle(id: string, state: Job['state'], message: string): void {
    const i = this.raftJobList.findIndex((j) => j.id === id);
    this.raftJobList[i] = { ...this.raftJobList[i]!, state, message };
  }
}

