/** The host side of Kinfolder: the HostAdapter seam, its typed errors, and the contract server over it. */
export * from './adapter';
export * from './errors';
export * from './server';
