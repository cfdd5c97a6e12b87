/** The narrow view of a devhost node that the web UI needs: nothing about links, signing or storage. */
import type { Observable } from 'rxjs';
import type {
  ChatTarget,
  HostChatMessage,
  HostChatRoom,
  HostPanel,
  HostPeer,
  HostPeerEvent,
  HostSelf,
} from '../../adapter';

export interface DevhostUiBackend {
  self(): HostSelf; certificate(): string;
  peers(): HostPeer[]; readonly peerEvents: Observable<HostPeerEvent>;
  addFriend(cert: string): Promise<HostPeer>; removeFriend(fingerprint: string): Promise<void>;
  sendChat(to: ChatTarget, text: string): Promise<{ message: HostChatMessage; deliveredTo: string[] }>;
  readonly chatMessages: Observable<HostChatMessage>; listRooms(): HostChatRoom[]; chatHistory(of: ChatTarget, limit: number): HostChatMessage[];
  listPanels(): HostPanel[]; panelToken(pluginId: string, panelId: string): string | undefined;
  readonly panelEvents: Observable<HostPanel[]>;
}
