// The part of ECharts the UI draws with (bars on a grid, with tooltip and legend, on canvas),
// registered once. Imported dynamically by the charts, so it is one lazy chunk of its own.
import { BarChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { init, use } from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

use([BarChart, GridComponent, TooltipComponent, LegendComponent, CanvasRenderer])

export { init }
