-- Neovim 0.7 headless: the new code mode set in initializationOptions (Neovim 0.7 neither
-- answers workspace/configuration nor sends `settings` by itself), switched back with
-- workspace/didChangeConfiguration, and the clearsight/review request. The workspace is a git repository whose committed
-- file has old findings. Writes a JSON report to $CLEARSIGHT_OUT; tests/test_editors.py
-- asserts on it.
--
--   CLEARSIGHT_PYTHON=python3 CLEARSIGHT_OUT=report.json \
--     nvim --headless -i NONE -u review.lua insecure.py
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
local h = dofile(here .. "harness.lua")
local python, timeout, report = h.python, h.timeout, h.report
local finish, summary, has_code, wait_publish = h.finish, h.summary, h.has_code, h.wait_publish

local function run()
  local buf = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "clearsight",
    cmd = { python, "-m", "clearsight", "server" },
    root_dir = vim.fn.getcwd(),
    flags = { debounce_text_changes = 0 },
    init_options = { settings = { scope = "changed", base = "HEAD", debounce = 0 } },
  })
  if not client_id then
    return finish(false, "the server did not start")
  end
  vim.lsp.buf_attach_client(buf, client_id)
  local client = vim.lsp.get_client_by_id(client_id)

  -- 1. Edit the committed file: only the new eval() is shown, not the file's old findings.
  vim.wait(2000, function() return h.publishes() > 0 end, 20)
  local count = vim.api.nvim_buf_line_count(buf)
  local seen = h.publishes()
  vim.api.nvim_buf_set_lines(buf, count, count, false, { "", "", "def risky(text):", "    return eval(text)" })
  if not wait_publish(seen, function(d) return has_code(d, "B307") ~= nil end, "B307 in new code") then return end
  report.steps.changed = summary(h.last())

  -- 2. Every finding again: new settings, as Neovim 0.7 users send them.
  client.config.settings = { clearsight = { scope = "all", debounce = 0 } }
  seen = h.publishes()
  client.notify("workspace/didChangeConfiguration", { settings = client.config.settings })
  if not wait_publish(seen, function(d) return has_code(d, "B506") ~= nil end, "B506 with scope all") then return end
  report.steps.all = summary(h.last())

  -- 3. The review of the change (saved first: the review reads the disk).
  vim.cmd("write")
  local review = client.request_sync("clearsight/review", { base = "HEAD" }, timeout, buf)
  if not review or review.err then
    return finish(false, "clearsight/review failed: " .. vim.inspect(review))
  end
  local hunks = {}
  for _, hunk in ipairs(review.result.hunks or {}) do
    table.insert(hunks, { path = hunk.path, score = hunk.score, reasons = hunk.reasons })
  end
  report.steps.review = { base = review.result.base, hunks = hunks }

  vim.lsp.stop_client(client_id)
  finish(true, "ran to its end")
end

h.run(run)
