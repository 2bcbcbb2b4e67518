;;; driver.el --- Emacs (eglot) against the Clearsight server, in batch mode  -*- lexical-binding: t -*-
;;
;; Opens a file, reads the diagnostics eglot hands to flymake, edits the buffer and applies a
;; quick fix; writes a JSON report to $CLEARSIGHT_OUT (tests/test_editors.py asserts on it).
;;
;;   CLEARSIGHT_PYTHON=python3 CLEARSIGHT_OUT=report.json \
;;     emacs --batch -l driver.el insecure.py   (no -Q: Debian's site-start finds elpa-eglot)

(require 'package)
(package-initialize)
(require 'eglot)
(require 'json)
(require 'cl-lib)

(defvar cs-python (or (getenv "CLEARSIGHT_PYTHON") "python3"))
(defvar cs-out (or (getenv "CLEARSIGHT_OUT") (error "Set CLEARSIGHT_OUT")))
(defvar cs-timeout 30)
(defvar cs-report nil)
(defvar cs-publishes 0)
(defvar cs-diagnostics [])

;; The configuration docs/editors.md recommends, with this Python.
(add-to-list 'eglot-server-programs
             `((python-mode python-ts-mode) . (,cs-python "-m" "clearsight" "server")))

(cl-defmethod eglot-handle-notification :before
  (_server (_method (eql textDocument/publishDiagnostics)) &key diagnostics &allow-other-keys)
  (setq cs-diagnostics diagnostics)
  (cl-incf cs-publishes))

(defun cs-finish (ok message)
  (push (cons 'ok (if ok t :json-false)) cs-report)
  (push (cons 'message message) cs-report)
  (with-temp-file cs-out (insert (json-encode cs-report)))
  (kill-emacs (if ok 0 1)))

(defun cs-find (code)
  (cl-find-if (lambda (d) (equal (plist-get d :code) code)) cs-diagnostics))

(defun cs-wait (seen predicate what)
  "Wait for a publish after SEEN for which PREDICATE holds."
  (let ((deadline (+ (float-time) cs-timeout)))
    (while (and (< (float-time) deadline)
                (not (and (> cs-publishes seen) (funcall predicate))))
      (accept-process-output nil 0.05))
    (unless (and (> cs-publishes seen) (funcall predicate))
      (cs-finish nil (format "timed out waiting for %s" what)))))

(defun cs-summary ()
  (mapcar (lambda (d)
            `((code . ,(plist-get d :code))
              (line . ,(1+ (plist-get (plist-get (plist-get d :range) :start) :line)))))
          cs-diagnostics))

(defun cs-flymake-summary ()
  (mapcar (lambda (d)
            `((line . ,(line-number-at-pos (flymake-diagnostic-beg d)))
              (text . ,(flymake-diagnostic-text d))))
          (flymake-diagnostics)))

(defun cs-run (file)
  (find-file file)
  (python-mode)
  (let ((eglot-sync-connect t))
    (apply #'eglot (eglot--guess-contact)))
  (unless (eglot-current-server)
    (cs-finish nil "eglot did not connect"))
  ;; 1. Open: the findings arrive and flymake shows them.
  (cs-wait 0 (lambda () (cs-find "B506")) "B506 on open")
  (push (cons 'open (cs-summary)) cs-report)
  (let ((deadline (+ (float-time) cs-timeout)))
    (while (and (< (float-time) deadline) (null (flymake-diagnostics)))
      (flymake-start)
      (accept-process-output nil 0.1)))
  (push (cons 'flymake (cs-flymake-summary)) cs-report)
  ;; 2. Edit: append an eval() call; the new text is analysed.
  (let ((seen cs-publishes))
    (goto-char (point-max))
    (insert "\n\ndef risky(text):\n    return eval(text)\n")
    (eglot--signal-textDocument/didChange)
    (cs-wait seen (lambda () (cs-find "B307")) "B307 after the edit"))
  (push (cons 'edit (cs-summary)) cs-report)
  ;; 3. Code action: the quick fix for B506, applied as the workspace edit it carries.
  (let* ((target (cs-find "B506"))
         (actions (jsonrpc-request
                   (eglot-current-server) :textDocument/codeAction
                   (list :textDocument (eglot--TextDocumentIdentifier)
                         :range (plist-get target :range)
                         :context (list :diagnostics (vector target) :only ["quickfix"]))))
         (chosen (cl-find-if (lambda (a) (equal (plist-get a :title) "Use yaml.safe_load()"))
                             actions))
         (seen cs-publishes))
    (push (cons 'code_actions (mapcar (lambda (a) (plist-get a :title)) actions)) cs-report)
    (unless chosen
      (cs-finish nil "no 'Use yaml.safe_load()' code action"))
    (unless (plist-get chosen :edit)
      (setq chosen (jsonrpc-request (eglot-current-server) :codeAction/resolve chosen)))
    (eglot--apply-workspace-edit (plist-get chosen :edit))
    (eglot--signal-textDocument/didChange)
    (cs-wait seen (lambda () (null (cs-find "B506"))) "B506 to go after the fix")
    (push (cons 'after_fix (cs-summary)) cs-report)
    (push (cons 'fixed_line
                (save-excursion
                  (goto-char (point-min))
                  (forward-line (plist-get (plist-get (plist-get target :range) :start) :line))
                  (buffer-substring-no-properties (line-beginning-position) (line-end-position))))
          cs-report))
  ;; No eglot-shutdown: kill-emacs ends the server; this driver is about what the user sees.
  (cs-finish t "ran to its end"))

(condition-case error
    (cs-run (car command-line-args-left))
  (error (cs-finish nil (format "driver error: %S" error))))
