// Colours: naive-ui's light theme made to meet WCAG AA contrast (its green, greys and tag
// texts are below 4.5:1 on white), and its dark theme, loaded only when chosen. The choice
// is kept in localStorage; the first visit follows the system's prefers-color-scheme.
import type { GlobalTheme, GlobalThemeOverrides } from 'naive-ui'
import { computed, ref, shallowRef } from 'vue'

export const THEME_STORAGE_KEY = 'autodb.theme'

const MUTED_LIGHT = '#5f656b'

export const lightOverrides: GlobalThemeOverrides = {
  common: {
    borderRadius: '4px',
    primaryColor: '#0c7a43',
    primaryColorHover: '#108f50',
    primaryColorPressed: '#0a6437',
    primaryColorSuppl: '#108f50',
    successColor: '#0c7a43',
    successColorHover: '#108f50',
    successColorPressed: '#0a6437',
    successColorSuppl: '#108f50',
    textColor3: MUTED_LIGHT,
  },
  Tag: {
    textColorSuccess: '#0a6437',
    textColorError: '#a61f3b',
    textColorWarning: '#7f4d00',
    textColorInfo: '#1a5a96',
    textColorPrimary: '#0a6437',
  },
  Empty: { textColor: MUTED_LIGHT },
}

const DARK_TEXT = 'rgba(255, 255, 255, 0.82)'
const DARK_PLACEHOLDER = 'rgba(255, 255, 255, 0.38)'
const darkSelection = {
  color: 'rgba(255, 255, 255, 0.1)',
  colorActive: 'rgba(99, 226, 183, 0.1)',
  colorDisabled: 'rgba(255, 255, 255, 0.06)',
  textColor: DARK_TEXT,
  placeholderColor: DARK_PLACEHOLDER,
}
const darkInput = {
  color: 'rgba(255, 255, 255, 0.1)',
  colorFocus: 'rgba(99, 226, 183, 0.1)',
  textColor: DARK_TEXT,
  placeholderColor: DARK_PLACEHOLDER,
}

export const darkOverrides: GlobalThemeOverrides = {
  common: { borderRadius: '4px' },
  Empty: { textColor: '#a3a8ae' },
  // Light styles that keep their light colours in dark (see darkTheme.ts): top-level
  // selects, and the inputs and selects other components hold as peers.
  InternalSelection: darkSelection,
  Select: { peers: { InternalSelection: darkSelection } },
  Pagination: {
    buttonColor: '#0000',
    buttonColorHover: '#0000',
    buttonColorPressed: '#0000',
    itemColor: '#0000',
    itemColorDisabled: 'rgba(255, 255, 255, 0.06)',
    peers: { Select: { peers: { InternalSelection: darkSelection } } },
  },
  DatePicker: { peers: { Input: darkInput } },
}

/** The system's preference, where the browser can tell. */
function systemPrefersDark(): boolean {
  return typeof window.matchMedia === 'function' && window.matchMedia('(prefers-color-scheme: dark)').matches
}

function readStored(): string | null {
  try {
    return localStorage.getItem(THEME_STORAGE_KEY)
  } catch {
    return null // storage disabled: follow the system
  }
}

/** A stored choice wins; otherwise the system's preference. */
export function initialDark(stored: string | null, prefersDark: boolean): boolean {
  if (stored === 'dark') return true
  if (stored === 'light') return false
  return prefersDark
}

export const dark = ref(initialDark(readStored(), systemPrefersDark()))
const darkTheme = shallowRef<GlobalTheme | null>(null)

/** naive-ui's theme for NConfigProvider: null is its light theme. */
export const theme = computed(() => (dark.value ? darkTheme.value : null))
export const themeOverrides = computed(() => (dark.value && darkTheme.value ? darkOverrides : lightOverrides))

function applyClass(): void {
  // Our own styles (colours outside naive-ui's components) follow the `dark` class.
  document.documentElement.classList.toggle('dark', dark.value && darkTheme.value !== null)
}

async function loadDarkTheme(): Promise<void> {
  darkTheme.value ??= (await import('./darkTheme')).darkTheme
}

/** Loads the dark theme first when it is the choice at start (no light flash). */
export async function startTheme(): Promise<void> {
  if (dark.value) {
    try {
      await loadDarkTheme()
    } catch {
      // The light theme still works.
    }
  }
  applyClass()
}

/** Switches the colour scheme and remembers it. */
export async function setDark(value: boolean): Promise<void> {
  if (value) await loadDarkTheme()
  dark.value = value
  applyClass()
  try {
    localStorage.setItem(THEME_STORAGE_KEY, value ? 'dark' : 'light')
  } catch {
    // Not remembered, but the switch still applies to this page.
  }
}
