/** Plugin panels shown in the host UI, each with a random token that the host hands to the panel. */
import { randomBytes } from 'node:crypto';
import { BehaviorSubject, type Observable } from 'rxjs';
import type { HostPanel } from '../adapter';

const keyOf = (pluginId: string, panelId: string) => `${pluginId}\0${panelId}`;

export class PanelRegistry {
  private readonly panels = new Map<string, { panel: HostPanel; token: string }>();
  private readonly subject = new BehaviorSubject<HostPanel[]>([]);
  readonly events: Observable<HostPanel[]> = this.subject.asObservable();

  /** Replacing a panel keeps its token, so a panel page that is open stays valid. */
  register(panel: HostPanel): { panelToken: string } {
    const key = keyOf(panel.pluginId, panel.id);
    const token = this.panels.get(key)?.token ?? randomBytes(32).toString('base64url');
    this.panels.set(key, { panel: { ...panel }, token });
    this.subject.next(this.list());
    return { panelToken: token };
  }

  list(): HostPanel[] {
    return [...this.panels.values()].map((e) => ({ ...e.panel }));
  }

  token(pluginId: string, panelId: string): string | undefined {
    return this.panels.get(keyOf(pluginId, panelId))?.token;
  }

  close(): void {
    this.subject.complete();
  }
}
