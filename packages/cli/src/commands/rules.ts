import type { Command } from 'commander'
import { formatIssue, runRuleCases, type CaseOutcome } from '@switchboard/server'
import { fail } from '../output.js'

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('permission rules tools')
  rules
    .command('test')
    .description('evaluate a table of cases against a permissions file; exits 1 on any mismatch')
    .argument('<rules>', 'permissions file (YAML, CEL rules)')
    .argument(
      '<cases>',
      'cases file: a list of { description?, user, kind, action, name, data?, old?, expect: allow|deny }',
    )
    .action((rulesFile: string, casesFile: string) => {
      try {
        process.exitCode = testRules(rulesFile, casesFile, (line) => process.stdout.write(`${line}\n`))
      } catch (e) {
        fail(e)
      }
    })
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
