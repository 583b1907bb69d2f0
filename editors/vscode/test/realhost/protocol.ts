/**
 * What the driver (./driver.ts: Node, outside VS Code, holding the browser) and the
 * suite (./suite: inside VS Code's extension host) say to each other. The suite asks
 * for what only the browser can do — type, press keys, click a notification's button,
 * read what the workbench draws, take a screenshot — by printing a request line on its
 * console, which VS Code forwards to the driver (`codeAutomationLog`); the driver
 * writes the answer to `<channel>/<id>.json`. No `vscode` and no playwright import:
 * both sides compile this module.
 */

/** The environment variable that holds the suite's {@link HostConfig} as JSON. */
export const CONFIG_ENV = "QUIVER_REALHOST_CONFIG";

/** A console line of the suite that starts with this is a {@link UiRequest}. */
export const REQUEST_PREFIX = "quiver-realhost-ui ";

/** What the driver tells the suite (through its environment). */
export interface HostConfig {
  /** The workspace folder VS Code opened: a copy of tests/data/polyglot. */
  workspace: string;
  /** Where the driver writes its answers, and the suite its results.json. */
  channel: string;
  /** The real `quiver` executable, which the user settings name as quiver.serverPath. */
  quiver: string;
  /** A folder the suite may write fake servers into. */
  scratch: string;
}

/** One row of the QuickPick, as drawn. */
export interface QuickInputRow {
  label: string;
  description: string;
}

/** The visible QuickPick / quick open widget. */
export interface QuickInputView {
  title: string;
  value: string;
  rows: QuickInputRow[];
}

/** A notification toast, as drawn. */
export interface NotificationView {
  message: string;
  buttons: string[];
}

/** The Quiver status bar item: `$(icon) text`, as the extension set it. */
export interface StatusBarView {
  text: string;
  tooltip: string;
  /** Every distinct text the item showed since the page loaded, sampled every 50 ms. */
  history: string[];
}

/** Where a screenshot is cut from the 1280x800 window. */
export type ScreenshotArea = "quickInput" | "statusBarHover" | "notification" | "window";

/** Each UI action: the arguments it takes and what it answers. */
export interface UiActions {
  /** A key or chord, in playwright's notation (`Control+t`, `Enter`, `Escape`). */
  press: { args: { key: string }; result: null };
  /** Replaces the text of the visible quick input box (as typing would). */
  fill: { args: { text: string }; result: null };
  /**
   * Waits until a quick input is visible and not busy, with a title that includes
   * `title` and a row whose label includes `row` (when given).
   */
  quickInput: { args: { title?: string; row?: string }; result: QuickInputView };
  /** Waits until no quick input is visible. */
  quickInputClosed: { args: Record<string, never>; result: null };
  /** Waits for a notification toast whose message includes `containing`. */
  notification: { args: { containing: string }; result: NotificationView };
  /** Clicks the button named `button` on the toast whose message includes `containing`. */
  clickNotificationButton: { args: { containing: string; button: string }; result: null };
  /** Waits until the Quiver status bar item's text is `text` (any when empty). */
  statusBar: { args: { text: string }; result: StatusBarView };
  /** Hovers the Quiver status bar item; answers the hover's text once shown. */
  hoverStatusBar: { args: Record<string, never>; result: string };
  /** Saves `<screenshots>/<name>.png` (`failure-*`: in the work folder); answers its path. */
  screenshot: { args: { name: string; area: ScreenshotArea }; result: string };
}

export type UiAction = keyof UiActions;

export interface UiRequest<A extends UiAction = UiAction> {
  id: number;
  action: A;
  args: UiActions[A]["args"];
  timeoutMs: number;
}

export type UiAnswer<A extends UiAction = UiAction> =
  | { ok: true; value: UiActions[A]["result"] }
  | { ok: false; error: string };

/** One check of the suite, as results.json records it. */
export interface CheckResult {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}
