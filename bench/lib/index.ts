/** Helpers for the end-to-end benches: a devhost cluster with sidecars, bench data and waits, /proc readings. */
export { BenchNode, Cluster } from './cluster';
export type { FolderStatusView, Role } from './cluster';
export { MiB, filesArrived, keystream, sha256File, treeArrived, treeFiles, until, writeRandomFile, writeTree } from './data';
export type { Tree } from './data';
export { ProcessWatch, childPids, cpuSeconds, peakRssMb, resetPeakRss, rssMb } from './proc';
