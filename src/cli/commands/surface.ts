// `ftfuzz surface`: the C surface surface programs draw from, as the target interpreter lists it.
import type { Argv } from 'yargs';
import { resolveTargets } from '../../check.js';
import { coverablePairs, shapesFor } from '../../generators/surface/program.js';
import { typeKey } from '../../generators/surface/types.js';
import { introspectSurface } from '../../runtime/surface.js';
import type { Target } from '../../types.js';
import { say, withTargetOptions } from '../options.js';

export function surfaceCommand(y: Argv): Argv {
  return y.command(
    'surface',
    'list the interpreter\'s C surface: every C type, how to make one, its methods, attributes and protocols, and the shapes that apply',
    (y) =>
      withTargetOptions(y)
        .option('module', { type: 'string', array: true, describe: 'only these modules (with their functions); default: builtins and every C module' })
        .option('json', { type: 'boolean', default: false, describe: 'print the surface as JSON' }),
    async (args) => {
      const target = (await resolveTargets({ python: args.python, log: say }))[0] as Target;
      const surface = await introspectSurface(target, { modules: args.module, log: say });
      if (args.json) {
        process.stdout.write(`${JSON.stringify(surface, null, 2)}\n`);
        return;
      }
      for (const t of surface.types) {
        const shapes = shapesFor(t);
        process.stdout.write(
          `${typeKey(t).padEnd(44)} ${t.ctor === null ? 'no constructor found' : `${t.methods.length} methods, ${t.properties.length} attributes; ${t.protocols.join(' ') || 'no protocols'}; shapes: ${shapes.join(' ') || 'none'}`}\n`,
        );
      }
      for (const f of surface.functions) process.stdout.write(`${`${f.module}.${f.name}()`.padEnd(44)} function, ${f.arity[0]}-${f.arity[1]} arguments\n`);
      const made = surface.types.filter((t) => shapesFor(t).length > 0).length;
      process.stdout.write(
        `${target.label}: ${surface.types.length} C types in ${surface.modules.length} modules, ${made} with a constructor and a shape; ${coverablePairs(surface).length} (type, member) pairs to exercise\n`,
      );
      for (const e of surface.errors) process.stdout.write(`not imported: ${e.module} (${e.error})\n`);
      for (const c of surface.crashes) process.stdout.write(`crashed single-threaded while introspected: ${c.probe} (${c.how}); a bug of the interpreter, reproduce it by hand\n`);
    },
  );
}
