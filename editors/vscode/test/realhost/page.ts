/**
 * Functions that run in the workbench page (playwright serialises each one, so each is
 * self-contained): they read what VS Code draws. The DOM is typed by the few members
 * used here, so that the extension's compilation keeps Node's globals only.
 */
import type { NotificationView, QuickInputView, ScreenshotArea, StatusBarView } from "./protocol";

interface Box {
  left: number;
  top: number;
  bottom: number;
}

interface PageNode {
  textContent: string | null;
}

interface PageElement extends PageNode {
  classList: { contains(name: string): boolean; [Symbol.iterator](): Iterator<string> };
  childNodes: ArrayLike<PageNode>;
  style: { display: string };
  value?: string;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  getBoundingClientRect(): Box;
  getClientRects(): { length: number };
}

interface PageGlobals {
  document: PageElement & { getElementById(id: string): PageElement | null };
  top: unknown;
  quiverStatusBar?: StatusBarView;
  setInterval(callback: () => void, ms: number): unknown;
}

export type Clip = { x: number; y: number; width: number; height: number };

/**
 * Installed before the workbench loads: records every text of the status bar item
 * `itemId` as `$(icon) text` (how the extension wrote it) in `quiverStatusBar`,
 * sampling every 50 ms.
 */
export function recordStatusBar(itemId: string): void {
  const page = globalThis as unknown as PageGlobals;
  if (page.top !== globalThis) {
    return; // a webview's frame
  }
  const state: StatusBarView = { text: "", tooltip: "", history: [] };
  page.quiverStatusBar = state;
  page.setInterval(() => {
    const item = page.document.getElementById(itemId);
    const label = item?.querySelector(".statusbar-item-label") ?? item;
    if (item === null || label === null || label === undefined) {
      return;
    }
    let text = "";
    for (const node of Array.from(label.childNodes)) {
      const element = node as Partial<PageElement>;
      if (element.classList?.contains("codicon") === true) {
        const classes = Array.from(element.classList);
        const name = classes.find((c) => c.startsWith("codicon-") && !c.startsWith("codicon-modifier")) ?? "codicon-?";
        const spin = classes.includes("codicon-modifier-spin") ? "~spin" : "";
        text += `$(${name.slice("codicon-".length)}${spin})`;
      } else {
        text += node.textContent ?? "";
      }
    }
    state.tooltip = item.getAttribute("aria-label") ?? "";
    if (text !== state.text) {
      state.text = text;
      state.history.push(text);
    }
  }, 50);
}

/** The recorded status bar once its text is `wanted` (any text when empty). */
export function readStatusBar(wanted: string): StatusBarView | undefined {
  const state = (globalThis as unknown as PageGlobals).quiverStatusBar;
  return state !== undefined && state.text !== "" && (wanted === "" || state.text === wanted) ? state : undefined;
}

/**
 * The visible quick input once it is not busy, with a title that includes
 * `wanted.title` and a row whose label includes `wanted.row` (when given).
 */
export function readQuickInput(wanted: { title?: string; row?: string }): QuickInputView | undefined {
  const { document } = globalThis as unknown as PageGlobals;
  const widget = document.querySelector(".quick-input-widget");
  if (widget === null || widget.style.display === "none") {
    return undefined;
  }
  const busy = widget.querySelector(".monaco-progress-container.active:not(.done)") !== null;
  const text = (root: PageElement, selector: string): string => root.querySelector(selector)?.textContent?.trim() ?? "";
  const rows = Array.from(widget.querySelectorAll(".quick-input-list .monaco-list-row")).map((row) => ({
    label: text(row, ".label-name") || (row.getAttribute("aria-label") ?? ""),
    description: text(row, ".label-description"),
  }));
  const view: QuickInputView = {
    title: text(widget, ".quick-input-title"),
    value: widget.querySelector(".quick-input-box input")?.value ?? "",
    rows,
  };
  const { row: wantedRow, title: wantedTitle } = wanted;
  const rowFound = wantedRow === undefined || rows.some((row) => row.label.includes(wantedRow));
  return !busy && rowFound && view.title.includes(wantedTitle ?? "") ? view : undefined;
}

/** Whether no quick input is visible. */
export function quickInputClosed(): boolean {
  const widget = (globalThis as unknown as PageGlobals).document.querySelector(".quick-input-widget");
  return widget === null || widget.style.display === "none";
}

/** The newest notification toast whose message includes `containing`. */
export function readNotification(containing: string): NotificationView | undefined {
  const { document } = globalThis as unknown as PageGlobals;
  const toasts = Array.from(document.querySelectorAll(".notification-toast")).reverse();
  for (const toast of toasts) {
    const message = toast.querySelector(".notification-list-item-message")?.textContent ?? "";
    if (message.includes(containing)) {
      const buttons = Array.from(toast.querySelectorAll(".notification-list-item-buttons-container .monaco-button"));
      return { message, buttons: buttons.map((button) => button.textContent?.trim() ?? "") };
    }
  }
  return undefined;
}

/** The part of the window a screenshot of `area` shows. */
export function screenshotClip(input: { area: ScreenshotArea; viewport: { width: number; height: number } }): Clip {
  const { document } = globalThis as unknown as PageGlobals;
  const { width, height } = input.viewport;
  // The box around every visible element that matches (toasts stack up).
  const box = (selector: string): Box | undefined => {
    const boxes = Array.from(document.querySelectorAll(selector))
      .filter((element) => element.getClientRects().length > 0)
      .map((element) => element.getBoundingClientRect());
    if (boxes.length === 0) {
      return undefined;
    }
    return {
      left: Math.min(...boxes.map((b) => b.left)),
      top: Math.min(...boxes.map((b) => b.top)),
      bottom: Math.max(...boxes.map((b) => b.bottom)),
    };
  };
  // From the top of the window to just below `below` (at least 400 px): the picker
  // over the editor it searches from.
  const top = (below: Box | undefined): Clip => ({
    x: 0,
    y: 0,
    width,
    height: Math.min(height, Math.max(400, Math.ceil((below?.bottom ?? height) + 24))),
  });
  // From `corner` to the window's bottom right: what pops up over the status bar.
  const bottomRight = (corner: Box | undefined): Clip => {
    const x = Math.max(0, Math.floor((corner?.left ?? width / 2) - 24));
    const y = Math.max(0, Math.floor((corner?.top ?? height / 2) - 24));
    return { x, y, width: width - x, height: height - y };
  };
  switch (input.area) {
    case "quickInput":
      return top(box(".quick-input-widget"));
    case "statusBarHover":
      return bottomRight(box(".monaco-hover, .workbench-hover"));
    case "notification":
      return bottomRight(box(".notification-toast"));
    case "window":
      return { x: 0, y: 0, width, height };
  }
}
