// BCM pin numbers to sysfs GPIO numbers. On Raspberry Pi OS Bookworm the SoC's GPIO chip no
// longer starts at 0 in sysfs: it is gpiochip512 on a Pi 4 and gpiochip571 on a Pi 5. The chip is
// found by its label under /sys/class/gpio, so `pin: 17` means GPIO17 on every Pi.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Labels of the chips that carry the 40-pin header's BCM GPIOs (Pi 1-3, Pi 4 and 400, Pi 5). */
const BCM_LABELS = ['pinctrl-bcm2835', 'pinctrl-bcm2711', 'pinctrl-bcm2712', 'pinctrl-rp1'];

export interface GpioChip {
  label: string;
  base: number;
  ngpio: number;
}

export function listChips(sysfs: string): GpioChip[] {
  if (!existsSync(sysfs)) return [];
  return readdirSync(sysfs)
    .filter((d) => /^gpiochip\d+$/.test(d))
    .map((d) => {
      const read = (f: string) => readFileSync(join(sysfs, d, f), 'utf8').trim();
      return { label: read('label'), base: Number(read('base')), ngpio: Number(read('ngpio')) };
    });
}

/** The sysfs number of BCM pin `pin`; throws with what was found when no known chip is there. */
export function sysfsNumber(pin: number, sysfs = '/sys/class/gpio'): number {
  if (!existsSync(sysfs)) throw new Error(`${sysfs} does not exist: this machine has no sysfs GPIO (not a Pi?); set gpio.simulate: true to run without pins`);
  const chips = listChips(sysfs);
  const chip = chips.find((c) => BCM_LABELS.includes(c.label));
  if (!chip) {
    const seen = chips.map((c) => `${c.label} (base ${c.base})`).join(', ') || 'none';
    throw new Error(`no Raspberry Pi GPIO chip under ${sysfs} (chips: ${seen}); set gpio.simulate: true to run without pins`);
  }
  if (pin >= chip.ngpio) throw new Error(`pin ${pin} is not on ${chip.label} (it has ${chip.ngpio} GPIOs)`);
  return chip.base + pin;
}
