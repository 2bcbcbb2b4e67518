/**
 * Clearsight for VS Code: starts the language server (bundled, or the environment's own),
 * keeps its settings in sync and shows its state. All analysis is in the server.
 */
import * as path from "node:path";
import * as vscode from "vscode";
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import { describeGarbage, isMethodNotFound, shouldRestart } from "./errors";
import {
  type ImportStrategy,
  type InterpreterInputs,
  interpreterCandidates,
  type Launch,
  projectInterpreter,
  resolveInterpreter,
  serverLaunch,
} from "./interpreter";
import { otherScope, type ReviewDocument, type ReviewNode, reviewNodes } from "./review";
import { makeNonce, openRequest, webviewPage } from "./riskReport";
import { explicitValue, serverSettings, withProjectInterpreter } from "./settings";
import { type Counts, countFindings, type ServerState, statusText, statusTooltip } from "./status";

const SECTION = "clearsight";
const MARK_REVIEWED = "clearsight.markReviewed";
const PROVENANCE_REPORT = "clearsight/provenanceReport";
const REVIEW = "clearsight/review";
const RISK_REPORT = "clearsight/riskReport";
/** Settings that change which process runs: a change restarts the server. */
const LAUNCH_SETTINGS = ["clearsight.interpreter", "clearsight.importStrategy"];

let client: LanguageClient | undefined;
let output: vscode.LogOutputChannel;
let status: vscode.StatusBarItem;
let extensionPath = "";
let serverState: ServerState = "stopped";
let crashTimes: number[] = [];
let toldAboutCrash = false;
let toldAboutUntrusted = false;
let toldAboutGarbage = false;
let starting: Promise<void> | undefined;
let watchingPythonExtension = false;
let extensionContext: vscode.ExtensionContext;
/** The project's interpreter sent to the server (chosen with the server's interpreter). */
let projectPython: string | undefined;

function activeResource(): vscode.Uri | undefined {
  return vscode.window.activeTextEditor?.document.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri;
}

function readSettings(scope: vscode.Uri | undefined): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION, scope);
  return withProjectInterpreter(
    serverSettings((key) => explicitValue(config.inspect(key))),
    projectPython,
  );
}

/** The Python extension's interpreter for `resource`, through its API, when it is installed. */
async function pythonExtensionInterpreter(resource: vscode.Uri | undefined): Promise<string[] | undefined> {
  const extension = vscode.extensions.getExtension("ms-python.python");
  if (!extension) {
    return undefined;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const api: any = extension.isActive ? extension.exports : await extension.activate();
    const environments = api?.environments;
    if (!watchingPythonExtension && environments?.onDidChangeActiveEnvironmentPath) {
      watchingPythonExtension = true;
      extensionContext.subscriptions.push(
        environments.onDidChangeActiveEnvironmentPath(() => {
          const configured = vscode.workspace.getConfiguration(SECTION, activeResource()).get<unknown>("interpreter");
          if (!(Array.isArray(configured) && configured.length > 0) && vscode.workspace.isTrusted) {
            output.info("The Python extension's interpreter changed: restarting the server.");
            void restart();
          }
        }),
      );
    }
    if (environments?.getActiveEnvironmentPath) {
      const active = environments.getActiveEnvironmentPath(resource);
      const resolved = active ? await environments.resolveEnvironment(active) : undefined;
      const executable: string | undefined = resolved?.executable?.uri?.fsPath ?? active?.path;
      if (executable) {
        return [executable];
      }
    }
    const command: unknown = api?.settings?.getExecutionDetails?.(resource)?.execCommand;
    if (Array.isArray(command) && command.length > 0) {
      return command.map(String);
    }
  } catch (error) {
    output.warn(`Could not ask the Python extension for its interpreter: ${String(error)}`);
  }
  return undefined;
}

function setState(state: ServerState): void {
  serverState = state;
  updateStatus();
}

function currentCounts(): Counts | undefined {
  const document = vscode.window.activeTextEditor?.document;
  if (!document || document.languageId !== "python") {
    return undefined;
  }
  const diagnostics = vscode.languages.getDiagnostics(document.uri).map((diagnostic) => ({
    code: diagnostic.code as string | number | { value: string | number } | undefined,
    source: diagnostic.source,
  }));
  return countFindings(diagnostics);
}

function currentScope(): string | undefined {
  return vscode.workspace.getConfiguration(SECTION, activeResource()).get<string>("scope");
}

function updateStatus(): void {
  const counts = currentCounts();
  const scope = currentScope();
  status.text = statusText(serverState, counts, scope);
  const untrusted = vscode.workspace.isTrusted ? "" : "\nUntrusted workspace: the bundled server runs.";
  status.tooltip = statusTooltip(serverState, counts, scope) + untrusted;
  status.show();
}

/** The Review Changes view: the server's review of the first workspace folder's change. */
class ReviewTree implements vscode.TreeDataProvider<ReviewNode> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private nodes: ReviewNode[] = [];
  private root = "";
  message: string | undefined;

  async refresh(): Promise<void> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || !client?.isRunning()) {
      this.nodes = [];
      this.changed.fire();
      return;
    }
    const base = vscode.workspace.getConfiguration(SECTION, folder.uri).get<string>("base");
    try {
      const review = await client.sendRequest<ReviewDocument>(REVIEW, {
        folder: client.code2ProtocolConverter.asUri(folder.uri),
        ...(base ? { base } : {}),
      });
      this.root = review.root ?? folder.uri.fsPath;
      this.nodes = reviewNodes(review);
      this.message = undefined;
    } catch (error) {
      this.nodes = [];
      this.message = isMethodNotFound(error)
        ? "This server cannot review changes (it does not know clearsight/review)."
        : String((error as Error).message ?? error);
      output.warn(`${REVIEW}: ${this.message}`);
    }
    this.changed.fire();
  }

  getTreeItem(node: ReviewNode): vscode.TreeItem {
    const collapsible =
      node.children.length > 0 ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.iconPath = new vscode.ThemeIcon(
      node.kind === "summary" ? "checklist" : node.kind === "finding" ? "warning" : node.ai ? "sparkle" : "diff",
      node.level === "high" || node.level === "error" ? new vscode.ThemeColor("errorForeground") : undefined,
    );
    item.contextValue = node.kind;
    if (node.path && node.line) {
      const position = new vscode.Position(Math.max(node.line - 1, 0), 0);
      item.command = {
        command: "vscode.open",
        title: "Open",
        arguments: [
          vscode.Uri.file(path.join(this.root, node.path)),
          { selection: new vscode.Range(position, position) },
        ],
      };
    }
    return item;
  }

  getChildren(node?: ReviewNode): ReviewNode[] {
    if (node) {
      return node.children;
    }
    if (this.message) {
      return [{ label: this.message, kind: "summary", children: [] }];
    }
    return this.nodes;
  }
}

let reviewTree: ReviewTree | undefined;

async function toggleScope(): Promise<void> {
  const config = vscode.workspace.getConfiguration(SECTION, activeResource());
  const next = otherScope(config.get<string>("scope"));
  const target = vscode.workspace.workspaceFolders?.length
    ? vscode.ConfigurationTarget.Workspace
    : vscode.ConfigurationTarget.Global;
  await config.update("scope", next, target);
  void vscode.window.showInformationMessage(
    next === "changed"
      ? "Clearsight: showing new code only (what the change introduced, and adjacent findings)."
      : "Clearsight: showing every finding.",
  );
}

async function describeLaunchFailure(message: string): Promise<void> {
  output.error(message);
  const choice = await vscode.window.showErrorMessage(message, "Open Settings", "Show Output");
  if (choice === "Open Settings") {
    await vscode.commands.executeCommand("workbench.action.openSettings", "clearsight.interpreter");
  } else if (choice === "Show Output") {
    output.show();
  }
}

async function chooseLaunch(): Promise<Launch | undefined> {
  const trusted = vscode.workspace.isTrusted;
  const resource = activeResource();
  const config = vscode.workspace.getConfiguration(SECTION, resource);
  // In an untrusted workspace VS Code already hides workspace values of restricted settings;
  // read the user's own value explicitly all the same.
  const raw: unknown = trusted ? config.get("interpreter") : config.inspect("interpreter")?.globalValue;
  // The schema says an array; a plain path in settings.json is taken as one too.
  const setting = typeof raw === "string" ? [raw] : Array.isArray(raw) ? raw.map(String) : undefined;
  const inputs: InterpreterInputs = {
    setting,
    pythonExtension: trusted ? await pythonExtensionInterpreter(resource) : undefined,
    trusted,
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((folder) => folder.uri.fsPath),
  };
  const candidates = interpreterCandidates(inputs);
  projectPython = projectInterpreter(inputs);
  output.info(
    projectPython
      ? `Imports are checked against the environment of ${projectPython}.`
      : "No project interpreter selected: the server uses the project's .venv, else its own environment.",
  );
  const choice = await resolveInterpreter(candidates, trusted);
  if (!choice.ok) {
    await describeLaunchFailure(choice.message);
    return undefined;
  }
  for (const skipped of choice.skipped) {
    output.warn(`Skipped ${skipped}`);
  }
  const launch = serverLaunch({
    interpreter: choice.result,
    strategy: config.get<ImportStrategy>("importStrategy"),
    trusted,
    bundledLibs: path.join(extensionPath, "bundled", "libs"),
    env: process.env,
  });
  output.info(
    `Python ${choice.result.version?.join(".")} at ${choice.result.executable ?? launch.command} ` +
      `(from ${choice.result.candidate.source}); server: ${launch.strategy === "useBundled" ? "bundled" : "the environment's clearsight"}`,
  );
  if (launch.note) {
    output.warn(launch.note);
  }
  if (!trusted && !toldAboutUntrusted) {
    toldAboutUntrusted = true;
    void vscode.window.showInformationMessage(
      `Clearsight: this workspace is untrusted, so only the bundled server runs, with ${choice.result.executable ?? launch.command}; the clearsight.interpreter and clearsight.importStrategy workspace settings are ignored.`,
    );
  }
  return launch;
}

function clientOptions(): LanguageClientOptions {
  return {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "untitled", language: "python" },
      // The Python cells of Jupyter notebooks: synced through the notebook's own
      // notifications, and this selector lets diagnostics, hovers and quick fixes reach them.
      { notebook: "jupyter-notebook", language: "python" },
    ],
    outputChannel: output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    initializationOptions: { settings: readSettings(activeResource()) },
    middleware: {
      workspace: {
        // The server asks for section "clearsight": answer with its table, not VS Code's raw
        // settings (which hold client-only keys the server would call unknown).
        configuration: async (params, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) {
            return answers;
          }
          return params.items.map((item, index) =>
            item.section === SECTION
              ? readSettings(item.scopeUri ? vscode.Uri.parse(item.scopeUri) : activeResource())
              : answers[index],
          );
        },
      },
    },
    errorHandler: {
      error: (error, _message, count) => {
        const garbage = /header|content-length/i.test(error.message);
        const text = garbage ? describeGarbage(error.message) : error.message;
        output.error(`Connection to the server: ${text}`);
        if (garbage && !toldAboutGarbage) {
          toldAboutGarbage = true;
          void vscode.window
            .showErrorMessage(
              "Clearsight's server printed something that is not LSP on its stdout, so VS Code cannot talk to it. Its output shows what was printed.",
              "Show Output",
            )
            .then((choice) => choice && output.show());
        }
        return { action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true };
      },
      closed: () => {
        const now = Date.now();
        crashTimes.push(now);
        if (shouldRestart(crashTimes, now)) {
          output.warn(`The server stopped unexpectedly; restarting it (crash ${crashTimes.length}).`);
          if (!toldAboutCrash) {
            toldAboutCrash = true;
            void vscode.window.showWarningMessage(
              "Clearsight's server stopped unexpectedly and is being restarted. Details: Clearsight: Show Output.",
            );
          }
          return { action: CloseAction.Restart, handled: true };
        }
        setState("failed");
        void vscode.window
          .showErrorMessage(
            "Clearsight's server keeps crashing and will not be restarted. See its output, then run Clearsight: Restart Server.",
            "Show Output",
          )
          .then((choice) => choice && output.show());
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    },
  };
}

async function startClient(): Promise<void> {
  setState("starting");
  const launch = await chooseLaunch();
  if (!launch) {
    setState("failed");
    return;
  }
  const serverOptions: ServerOptions = {
    command: launch.command,
    args: launch.args,
    transport: TransportKind.stdio,
    // Not the workspace: `python -m` puts the working folder first on sys.path, and a
    // workspace folder named clearsight must not replace the server.
    options: { env: launch.env, cwd: path.join(extensionPath, "bundled") },
  };
  const created = new LanguageClient(SECTION, "Clearsight", serverOptions, clientOptions());
  client = created;
  created.onDidChangeState((event) => {
    if (event.newState === State.Running) {
      setState("running");
    } else if (event.newState === State.Starting) {
      setState("starting");
    } else if (serverState !== "failed") {
      setState("stopped");
    }
  });
  try {
    await created.start();
  } catch (error) {
    setState("failed");
    await describeLaunchFailure(`Clearsight's server did not start: ${String(error)}`);
  }
}

async function stopClient(): Promise<void> {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch (error) {
      output.warn(`Stopping the server: ${String(error)}`);
    }
  }
}

async function restart(): Promise<void> {
  if (starting) {
    await starting;
  }
  crashTimes = [];
  starting = (async () => {
    await stopClient();
    await startClient();
  })();
  try {
    await starting;
  } finally {
    starting = undefined;
  }
}

function runningClient(): LanguageClient | undefined {
  if (client && client.isRunning()) {
    return client;
  }
  void vscode.window.showWarningMessage("Clearsight's server is not running. Run Clearsight: Restart Server.");
  return undefined;
}

async function markSelectionReviewed(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== "python") {
    void vscode.window.showInformationMessage("Clearsight: open a Python file and select the lines you reviewed.");
    return;
  }
  const running = runningClient();
  if (!running) {
    return;
  }
  const converter = running.code2ProtocolConverter;
  const argument = { uri: converter.asUri(editor.document.uri), range: converter.asRange(editor.selection) };
  try {
    await running.sendRequest(ExecuteCommandRequest.type, { command: MARK_REVIEWED, arguments: [argument] });
    const first = editor.selection.start.line + 1;
    const last = editor.selection.end.line + 1;
    void vscode.window.showInformationMessage(`Clearsight: lines ${first}–${last} marked as reviewed.`);
  } catch (error) {
    if (isMethodNotFound(error)) {
      void vscode.window.showInformationMessage(
        "Clearsight: this server cannot record reviews yet (it does not know clearsight.markReviewed).",
      );
    } else {
      output.error(`${MARK_REVIEWED}: ${String((error as Error).message ?? error)}`);
      void vscode.window.showErrorMessage(`Clearsight could not mark the selection as reviewed: ${(error as Error).message ?? error}`);
    }
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

let reportPanel: vscode.WebviewPanel | undefined;

async function showProvenanceReport(): Promise<void> {
  const running = runningClient();
  if (!running) {
    return;
  }
  let markdown: string;
  try {
    const result = await running.sendRequest<{ markdown?: unknown }>(PROVENANCE_REPORT, {});
    markdown = typeof result?.markdown === "string" ? result.markdown : "";
    if (!markdown) {
      throw new Error("the server's answer has no markdown");
    }
  } catch (error) {
    if (isMethodNotFound(error)) {
      void vscode.window.showInformationMessage(
        "Clearsight: this server has no provenance report yet (it does not know clearsight/provenanceReport).",
      );
    } else {
      output.error(`${PROVENANCE_REPORT}: ${String((error as Error).message ?? error)}`);
      void vscode.window.showErrorMessage(`Clearsight could not build the provenance report: ${(error as Error).message ?? error}`);
    }
    return;
  }
  let html: string;
  try {
    html = await vscode.commands.executeCommand<string>("markdown.api.render", markdown);
  } catch {
    html = `<pre>${escapeHtml(markdown)}</pre>`;
  }
  if (!reportPanel) {
    reportPanel = vscode.window.createWebviewPanel("clearsightProvenance", "Clearsight: Provenance", vscode.ViewColumn.Beside, {
      enableScripts: false,
    });
    reportPanel.onDidDispose(() => (reportPanel = undefined));
  }
  reportPanel.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';"></head><body>${html}</body></html>`;
  reportPanel.reveal();
}

let riskPanel: vscode.WebviewPanel | undefined;

/** Clearsight: Show Risk Report: the server's risk report over the history, in a webview
 * with the extension's own plotly.js; its file links open the files. */
async function showRiskReport(): Promise<void> {
  const running = runningClient();
  if (!running) {
    return;
  }
  const folder = vscode.workspace.getWorkspaceFolder(activeResource() ?? vscode.Uri.file("/")) ?? vscode.workspace.workspaceFolders?.[0];
  let answer: { html?: unknown; scriptSlot?: unknown; root?: unknown };
  try {
    answer = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Clearsight: reading the history for the risk report…" },
      () => running.sendRequest(RISK_REPORT, folder ? { folder: folder.uri.toString() } : {}),
    );
  } catch (error) {
    const message = isMethodNotFound(error)
      ? "this server has no risk report yet (it does not know clearsight/riskReport)."
      : String((error as Error).message ?? error);
    output.error(`${RISK_REPORT}: ${message}`);
    void vscode.window.showErrorMessage(`Clearsight could not build the risk report: ${message}`);
    return;
  }
  const { html, scriptSlot, root } = answer ?? {};
  if (typeof html !== "string" || typeof scriptSlot !== "string" || typeof root !== "string") {
    void vscode.window.showErrorMessage("Clearsight: the server's risk report has no page.");
    return;
  }
  const media = vscode.Uri.file(path.join(extensionPath, "media"));
  if (!riskPanel) {
    riskPanel = vscode.window.createWebviewPanel("clearsightRiskReport", "Clearsight: Risk Report", vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [media],
      retainContextWhenHidden: true,
    });
    riskPanel.onDidDispose(() => (riskPanel = undefined));
  }
  const panel = riskPanel;
  const plotlySrc = panel.webview.asWebviewUri(vscode.Uri.joinPath(media, "plotly.min.js")).toString();
  try {
    panel.webview.html = webviewPage(html, scriptSlot, { cspSource: panel.webview.cspSource, plotlySrc, nonce: makeNonce() });
  } catch (error) {
    void vscode.window.showErrorMessage(`Clearsight: ${(error as Error).message}`);
    return;
  }
  riskReportMessages?.dispose();
  riskReportMessages = panel.webview.onDidReceiveMessage(async (message: unknown) => {
    const wanted = openRequest(message);
    if (!wanted) {
      return;
    }
    const uri = vscode.Uri.file(path.join(root, ...wanted.path.split("/")));
    const position = new vscode.Position(wanted.line - 1, 0);
    await vscode.window.showTextDocument(uri, { selection: new vscode.Range(position, position), viewColumn: vscode.ViewColumn.Beside });
  });
  panel.reveal();
}
let riskReportMessages: vscode.Disposable | undefined;

function onConfigurationChanged(event: vscode.ConfigurationChangeEvent): void {
  if (!event.affectsConfiguration(SECTION)) {
    return;
  }
  if (LAUNCH_SETTINGS.some((key) => event.affectsConfiguration(key))) {
    output.info("Interpreter settings changed: restarting the server.");
    void restart();
    return;
  }
  // The server pulls its section again (workspace/configuration) and analyses anew.
  if (client?.isRunning()) {
    void client.sendNotification(DidChangeConfigurationNotification.type, { settings: null });
  }
  updateStatus();
  if (event.affectsConfiguration("clearsight.base")) {
    void reviewTree?.refresh();
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  extensionPath = context.extensionPath;
  extensionContext = context;
  output = vscode.window.createOutputChannel("Clearsight", { log: true });
  status = vscode.window.createStatusBarItem("clearsight.status", vscode.StatusBarAlignment.Left, 50);
  status.name = "Clearsight";
  status.command = "clearsight.showProvenanceReport";
  const tree = new ReviewTree();
  reviewTree = tree;
  // A commit, checkout or moved branch changes the change: review it again.
  const refs = vscode.workspace.createFileSystemWatcher("**/.git/{HEAD,refs/**}");
  refs.onDidChange(() => void tree.refresh());
  refs.onDidCreate(() => void tree.refresh());
  context.subscriptions.push(
    output,
    status,
    vscode.commands.registerCommand("clearsight.restart", restart),
    vscode.commands.registerCommand("clearsight.showOutput", () => output.show()),
    vscode.commands.registerCommand("clearsight.markSelectionReviewed", markSelectionReviewed),
    vscode.commands.registerCommand("clearsight.showProvenanceReport", showProvenanceReport),
    vscode.commands.registerCommand("clearsight.showRiskReport", showRiskReport),
    vscode.commands.registerCommand("clearsight.refreshReview", () => reviewTree?.refresh()),
    vscode.commands.registerCommand("clearsight.toggleScope", toggleScope),
    vscode.window.registerTreeDataProvider("clearsight.reviewChanges", tree),
    refs,
    vscode.workspace.onDidSaveTextDocument(() => void reviewTree?.refresh()),
    vscode.workspace.onDidChangeConfiguration(onConfigurationChanged),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      output.info("The workspace is trusted now: restarting the server with the configured interpreter.");
      void restart();
    }),
    vscode.window.onDidChangeActiveTextEditor(updateStatus),
    vscode.languages.onDidChangeDiagnostics((event) => {
      const active = vscode.window.activeTextEditor?.document.uri.toString();
      if (active && event.uris.some((uri) => uri.toString() === active)) {
        updateStatus();
      }
    }),
    { dispose: () => void stopClient() },
  );
  await restart();
  void tree.refresh();
}

export async function deactivate(): Promise<void> {
  await stopClient();
}
