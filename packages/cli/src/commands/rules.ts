import type { Command } from 'commander'
import { formatIssue, loadConfig, resolveConfig, runRuleCases, type CaseOutcome } from '@switchboard/server'
import { configFile, configOption } from '../options.js'
import { fail } from '../output.js'

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('permission rules tools')
  rules
    .command('test')
    .description(
      'evaluate a table of cases against a permissions file (given, or `permissions` from the config); exits 1 on any mismatch',
    )
    .usage('[options] [rules] <cases>')
    .argument('<rules-or-cases>', 'permissions file (YAML, CEL rules), or the cases file when only one is given')
    .argument(
      '[cases]',
      'cases file: a list of { description?, user, kind, action, name, data?, old?, expect: allow|deny }',
    )
    .addOption(configOption())
    .action((first: string, second: string | undefined, opts: { config?: string }) => {
      try {
        const [explicitRules, casesFile] = second === undefined ? [undefined, first] : [first, second]
        const rulesFile = permissionsFile(explicitRules, opts.config, process.env)
        process.exitCode = testRules(rulesFile, casesFile, (line) => process.stdout.write(`${line}\n`))
      } catch (e) {
        fail(e)
      }
    })
}

/**
 * The rules file to test: the one given on the command line, else `permissions` from the same
 * config `start` would read (the config file, then `SWITCHBOARD_*` env vars).
 */
export function permissionsFile(
  explicit: string | undefined,
  config: string | undefined,
  env: NodeJS.ProcessEnv,
): string {
  const fromConfig = resolveConfig(loadConfig({ file: configFile(config), env })).permissions
  const file = explicit ?? fromConfig
  if (file === null) {
    throw new Error(
      'no permissions file: give one (switchboard rules test <rules> <cases>) or set `permissions` in the config (--config, ./switchboard.yaml or SWITCHBOARD_PERMISSIONS)',
    )
  }
  return file
}

/** Runs the cases; writes every problem and mismatch, then a summary. Returns the exit code. */
export function testRules(rulesFile: string, casesFile: string, write: (line: string) => void): number {
  const { issues, outcomes } = runRuleCases(rulesFile, casesFile)
  if (issues.length > 0) {
    for (const issue of issues) write(formatIssue(issue))
    return 1
  }
  const failed = outcomes.filter((o) => !o.passed)
  for (const o of failed) write(describeFailure(o))
  write(
    `${outcomes.length} case${outcomes.length === 1 ? '' : 's'}: ${outcomes.length - failed.length} passed, ${failed.length} failed`,
  )
  return failed.length > 0 ? 1 : 0
}

function describeFailure({ case: c, decision }: CaseOutcome): string {
  const { request } = c
  const who = request.user === null ? 'anonymous' : `user ${JSON.stringify(request.user.id)}`
  const label = c.description ? ` ${JSON.stringify(c.description)}` : ''
  const got = decision.allowed ? 'allow' : 'deny'
  const why = decision.rule
    ? `${decision.rule.file}:${decision.rule.line} ${decision.rule.kind} '${decision.rule.pattern}' ${decision.rule.action}: ${decision.rule.expression}` +
      (decision.error ? ` (error: ${decision.error})` : '')
    : 'no rule matches: denied by default'
  return `FAIL ${c.file}:${c.line}${label}: ${request.kind} ${request.action} ${request.name} as ${who}: expected ${c.expect}, got ${got} — ${why}`
}
