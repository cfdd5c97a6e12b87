/** DevhostNode satisfies the narrow interface that the web UI is written against. */
import type { DevhostNode } from '../../../host-bridge/src/devhost';
import type { DevhostUiBackend } from '../../../host-bridge/src/devhost/web/backend';
import type { HostAdapter } from '../../../host-bridge/src/adapter';

// Compile-time checks: ts (npm run typecheck) fails if the node drifts from either seam.
const asUi = (n: DevhostNode): DevhostUiBackend => n;
const asAdapter = (n: DevhostNode): HostAdapter => n;

test('the seams are structural (checked by the type checker)', () => {
  expect(typeof asUi).toBe('function');
  expect(typeof asAdapter).toBe('function');
});
