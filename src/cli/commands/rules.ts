/** `repro rules`: prints the Prometheus alerting rules for `repro monitor`'s metrics. */
import { rulesYaml, type RulesOptions } from '../../monitor/rules.js';

export function rulesCommand(options: RulesOptions): void {
  process.stdout.write(rulesYaml(options));
}
