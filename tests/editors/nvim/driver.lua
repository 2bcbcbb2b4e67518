-- Neovim 0.7 (Debian 12) headless against the Clearsight server: open a file, read its
-- diagnostics, edit it, run a code action. Writes a JSON report to $CLEARSIGHT_OUT and
-- exits 0 (`qa!`) when it ran to its end, 1 (`cquit! 1`) otherwise; tests/test_editors.py
-- asserts on the report.
--
--   CLEARSIGHT_PYTHON=python3 CLEARSIGHT_OUT=report.json \
--     nvim --headless -i NONE -u driver.lua insecure.py
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local h = dofile(here .. "harness.lua")
local python, timeout, report = h.python, h.timeout, h.report
local finish, summary, has_code, wait_publish = h.finish, h.summary, h.has_code, h.wait_publish

local function run()
  local buf = vim.api.nvim_get_current_buf()
  local root = vim.fn.getcwd()
  local client_id = vim.lsp.start_client({
    name = "clearsight",
    cmd = { python, "-m", "clearsight", "server" },
    root_dir = root,
    flags = { debounce_text_changes = 0 },
    on_exit = function(code)
      report.server_exit = code
    end,
  })
  if not client_id then
    return finish(false, "the server did not start: " .. python .. " -m clearsight server")
  end
  vim.lsp.buf_attach_client(buf, client_id)

  -- 1. Open: the diagnostics arrive.
  if not wait_publish(0, function(d) return has_code(d, "B506") ~= nil end, "B506 on open") then return end
  report.steps.open = summary(h.last())
  report.steps.vim_diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(report.steps.vim_diagnostics, { code = d.code, line = d.lnum + 1, source = d.source })
  end

  -- 2. Edit: append an eval() call; the new finding (B307) is published for the new text.
  local count = vim.api.nvim_buf_line_count(buf)
  local seen = h.publishes()
  vim.api.nvim_buf_set_lines(buf, count, count, false, { "", "", "def risky(text):", "    return eval(text)" })
  if not wait_publish(seen, function(d) return has_code(d, "B307") ~= nil end, "B307 after the edit") then return end
  report.steps.edit = summary(h.last())

  -- 3. Code action: the quick fix for B506 at its position, applied as a workspace edit.
  local client = vim.lsp.get_client_by_id(client_id)
  local target = has_code(h.last(), "B506")
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = target.range,
    context = { diagnostics = { target }, only = { "quickfix" } },
  }
  local response = client.request_sync("textDocument/codeAction", params, timeout, buf)
  if not response or response.err then
    return finish(false, "codeAction failed: " .. vim.inspect(response))
  end
  local titles, chosen = {}, nil
  for _, action in ipairs(response.result or {}) do
    table.insert(titles, action.title)
    if action.title == "Use yaml.safe_load()" then
      chosen = action
    end
  end
  report.steps.code_actions = titles
  if not chosen then
    return finish(false, "no 'Use yaml.safe_load()' action among " .. vim.inspect(titles))
  end
  if not chosen.edit then
    local resolved = client.request_sync("codeAction/resolve", chosen, timeout, buf)
    chosen = resolved and resolved.result or chosen
  end
  seen = h.publishes()
  vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding)
  if not wait_publish(seen, function(d) return has_code(d, "B506") == nil end, "B506 to go after the fix") then return end
  report.steps.after_fix = summary(h.last())
  report.steps.fixed_line = vim.api.nvim_buf_get_lines(buf, target.range.start.line, target.range.start.line + 1, false)[1]

  -- 4. Hover over the finding's line: the server explains it.
  local hover = client.request_sync("textDocument/hover", {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = 10, character = 15 },
  }, timeout, buf)
  report.steps.hover = hover and hover.result and hover.result.contents or vim.NIL

  vim.lsp.stop_client(client_id)
  finish(true, "ran to its end")
end

h.run(run)
